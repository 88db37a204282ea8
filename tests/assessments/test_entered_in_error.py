"""A questionnaire marked as entered in error: by the therapists of the record only, with a reason, for good; kept in
the record (struck through, answers readable) and in the extract; its time point free for the right questionnaire."""

from __future__ import annotations

import io
import re

import pgtrigger
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, InternalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader

from assessments import services
from assessments.models import Administration, Answer, TabletCode, TimePoint
from assessments.services import version_for
from clients.models import Episode
from kast.actor import Actor
from kast.db_roles import RUNTIME_ROLE
from kast.models import AccessLogEntry
from tests.factories import open_first_period, put_in_treatment
from tests.kast.test_database_roles import committed, every_trigger_set_aside, login_as, refused

pytestmark = pytest.mark.django_db

REASON = "SENTINEL-fel-4711: gavs till fel klient"
UPDATE = AccessLogEntry.Action.UPDATE
#: A yes-or-no question of each time point's version, asked of everyone.
YES_NO_OF = {TimePoint.START: "has_partner", TimePoint.END: "came_as_often", TimePoint.FOLLOW_UP: "came_as_often"}


@pytest.fixture
def case(client_record):
    return put_in_treatment(open_first_period(client_record))


def given(
    case, *, submitted: bool = True, time_point: str = TimePoint.START, code: str = "has_partner"
) -> Administration:
    """A questionnaire of `case` answering yes to one question (at start "has a partner"), submitted or not."""
    version = version_for(time_point)
    administration = Administration.objects.create(
        client=case,
        episode=case.episodes.get(),
        time_point=time_point,
        version=version,
        created_by=case.responsible_therapist,
        submitted_at=timezone.now() if submitted else None,
    )
    Answer.objects.create(administration=administration, item=version.items.get(code=code), value_bool=True)
    return administration


@pytest.fixture
def submitted(case):
    return given(case)


def mark_url(administration) -> str:
    return reverse("assessments:mark_in_error", args=[administration.pk])


def marks(administration) -> tuple:
    administration.refresh_from_db()
    return (
        administration.entered_in_error_at is not None,
        administration.entered_in_error_by,
        administration.error_reason,
    )


# -- Marking through the page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("is_submitted", [True, False])
def test_the_therapist_marks_it_with_a_reason_and_it_stays_listed_struck_through(client, therapist, case, is_submitted):
    administration = given(case, submitted=is_submitted)
    client.force_login(therapist)
    page = client.get(reverse("assessments:client", args=[case.pk]))
    assert mark_url(administration) in page.content.decode()

    response = client.post(mark_url(administration), {"reason": f"  {REASON}  "})

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:client", args=[case.pk])
    assert marks(administration) == (True, therapist, REASON)
    entry = AccessLogEntry.objects.get(action=UPDATE, object_type="assessments.administration")
    assert (entry.user, entry.client_id, entry.object_id, entry.reason) == (
        therapist,
        case.pk,
        str(administration.pk),
        "entered_in_error",
    )
    # The reason is free text: not in the log (nor in any URL).
    assert not AccessLogEntry.objects.filter(reason__contains="SENTINEL").exists()
    assert not AccessLogEntry.objects.filter(path__contains="SENTINEL").exists()

    listed = client.get(response["Location"]).content.decode()
    assert "<del>" in listed
    assert REASON in listed
    assert reverse("assessments:fill", args=[administration.pk]) in listed
    # The time point can be given again: its "Begin" button is back.
    assert f'value="{TimePoint.START}"' in listed

    read = client.get(reverse("assessments:fill", args=[administration.pk]))
    assert read.status_code == 200
    assert read.templates[0].name == "assessments/answers.html"  # read only, submitted or not
    text = read.content.decode()
    assert REASON in text
    assert _("Entered in error: this questionnaire does not count in any report or figure.") in text
    assert [row.shown for row in read.context["rows"] if row.item.code == "has_partner"] == [_("Yes")]


def test_without_a_reason_it_is_a_field_error_and_nothing_is_marked(client, therapist, submitted):
    client.force_login(therapist)

    response = client.post(mark_url(submitted), {"reason": "   "})

    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    assert marks(submitted) == (False, None, "")
    assert not AccessLogEntry.objects.filter(action=UPDATE).exists()


def test_the_service_wants_a_reason_on_the_field(therapist, submitted):
    with pytest.raises(ValidationError) as refused_error:
        services.administration_mark_in_error(actor=Actor.for_user(therapist), administration=submitted, reason=" ")

    assert refused_error.value.message_dict == {"reason": [_("Say why the questionnaire was entered in error.")]}
    assert marks(submitted) == (False, None, "")


@pytest.mark.parametrize(("persona", "status"), [("colleague", 404), ("other_clinic", 404), ("manager", 403)])
def test_nobody_but_the_therapists_of_the_record_may_mark_it(client, personas, submitted, persona, status):
    client.force_login(personas[persona])

    assert client.post(mark_url(submitted), {"reason": REASON}).status_code == status
    with pytest.raises(PermissionDenied):
        services.administration_mark_in_error(
            actor=Actor.for_user(personas[persona]), administration=submitted, reason=REASON
        )

    assert marks(submitted) == (False, None, "")
    assert not AccessLogEntry.objects.filter(action=UPDATE).exists()


def test_a_co_therapist_may_mark_it(client, colleague, case, submitted):
    case.co_therapists.add(colleague)
    client.force_login(colleague)

    assert client.post(mark_url(submitted), {"reason": REASON}).status_code == 302

    assert marks(submitted) == (True, colleague, REASON)


def test_marking_twice_is_refused_and_the_first_mark_stays(client, therapist, submitted):
    client.force_login(therapist)
    client.post(mark_url(submitted), {"reason": REASON})

    response = client.post(mark_url(submitted), {"reason": "Ett annat skäl"})

    assert response.status_code == 400
    assert marks(submitted) == (True, therapist, REASON)


# -- What it leaves free, and what it closes ----------------------------------------------------------------------


def test_after_marking_the_right_questionnaire_can_be_started_at_that_time_point(client, therapist, case, submitted):
    client.force_login(therapist)
    assert client.post(reverse("assessments:start", args=[case.pk]), {"time_point": TimePoint.START}).status_code == 302
    assert Administration.objects.filter(client=case).count() == 1  # refused while it counts

    services.administration_mark_in_error(actor=Actor.for_user(therapist), administration=submitted, reason=REASON)
    response = client.post(reverse("assessments:start", args=[case.pk]), {"time_point": TimePoint.START})

    right = Administration.objects.exclude(pk=submitted.pk).get(client=case)
    assert response["Location"] == reverse("assessments:fill", args=[right.pk])
    assert (right.time_point, right.episode, right.is_entered_in_error) == (TimePoint.START, submitted.episode, False)
    # And the questionnaires page shows the new one as the time point's, the marked one beside it.
    rows = client.get(reverse("assessments:client", args=[case.pk])).context["rows"]
    start_row = next(row for row in rows if row.time_point == TimePoint.START)
    assert (start_row.administration, start_row.entered_in_error) == (right, [submitted])


def test_the_database_still_refuses_two_that_count(therapist, case, submitted):
    services.administration_mark_in_error(actor=Actor.for_user(therapist), administration=submitted, reason=REASON)
    given(case)  # the right one: accepted

    with pytest.raises(IntegrityError, match="administration_once_per_period_and_point"), transaction.atomic():
        given(case)


def test_the_database_wants_when_who_and_why_together(submitted):
    with pytest.raises(IntegrityError, match="administration_error_has_reason"), transaction.atomic():
        Administration.objects.filter(pk=submitted.pk).update(entered_in_error_at=timezone.now())


def test_an_unsubmitted_one_marked_takes_no_more_answers_and_its_tablet_code_stops(client, therapist, case):
    administration = given(case, submitted=False)
    actor = Actor.for_user(therapist)
    code = services.tablet_code_create(actor=actor, administration=administration)

    services.administration_mark_in_error(actor=actor, administration=administration, reason=REASON)

    with pytest.raises(ValidationError):
        services.answers_save(actor=actor, administration=administration, answers={"has_partner": False}, submit=True)
    with pytest.raises(ValidationError):
        services.tablet_code_create(actor=actor, administration=administration)
    assert not TabletCode.objects.filter(administration=administration, used_at__isnull=True).exists()
    assert client.post(reverse("assessments:tablet"), {"code": code}).status_code == 400
    client.force_login(therapist)
    assert client.post(reverse("assessments:fill", args=[administration.pk]), {"submit": "1"}).status_code == 200
    administration.refresh_from_db()
    assert administration.submitted_at is None
    assert list(administration.answers.values_list("value_bool", flat=True)) == [True]


def test_the_timeline_shows_it_marked_and_the_intake_baseline_leaves_it_out(client, therapist, case, submitted):
    """The intake summary's baseline is the first column of the answers side by side: a marked start questionnaire
    is no column there, only counted as left out."""
    from assessments.selectors import answers_over_time

    assert [column.administration for column in answers_over_time(case).columns] == [submitted]
    services.administration_mark_in_error(actor=Actor.for_user(therapist), administration=submitted, reason=REASON)

    over_time = answers_over_time(case)
    assert (over_time.columns, over_time.left_out) == ([], 1)
    client.force_login(therapist)
    timeline = client.get(reverse("sessions:timeline", args=[case.pk])).content.decode()
    assert REASON in timeline
    assert _("Entered in error") in timeline


# -- The right of access ------------------------------------------------------------------------------------------


def test_the_extract_lists_it_with_the_mark_and_the_reason_but_not_its_answers(client, therapist, case, submitted):
    given(case, time_point=TimePoint.END, code="came_as_often")
    services.administration_mark_in_error(actor=Actor.for_user(therapist), administration=submitted, reason=REASON)
    client.force_login(therapist)

    response = client.post(reverse("archive:right_of_access", args=[case.pk]))

    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))
    assert REASON in text
    assert _("Its answers are not included: they may concern someone else. It does not count in any figure.") in text
    # The end questionnaire's answer is there, the marked one's is not.
    assert version_for(TimePoint.END).items.get(code="came_as_often").localized_text in text
    assert version_for(TimePoint.START).items.get(code="has_partner").localized_text not in text


# -- Final: the runtime role cannot clear the mark, not even with pgtrigger.ignore ---------------------------------


def test_the_app_cannot_clear_the_mark(therapist, submitted):
    services.administration_mark_in_error(actor=Actor.for_user(therapist), administration=submitted, reason=REASON)
    uris = [trigger.get_uri(model) for model, trigger in pgtrigger.registry.registered()]

    for change in (
        {"entered_in_error_at": None, "entered_in_error_by": None, "error_reason": ""},
        {"error_reason": "x"},
    ):
        with pytest.raises(InternalError, match="assessments_administration"), transaction.atomic():
            Administration.objects.filter(pk=submitted.pk).update(**change)
        with pgtrigger.ignore(*uris), pytest.raises(InternalError), transaction.atomic():
            Administration.objects.filter(pk=submitted.pk).update(**change)

    assert marks(submitted) == (True, therapist, REASON)


@committed
def test_the_runtime_role_cannot_clear_the_mark_even_with_every_trigger_set_aside(therapist, client_record):
    case = put_in_treatment(open_first_period(client_record))
    administration = given(case)
    services.administration_mark_in_error(actor=Actor.for_user(therapist), administration=administration, reason=REASON)
    table = Administration._meta.db_table

    with login_as(RUNTIME_ROLE) as conn:
        with conn.cursor() as cursor:
            every_trigger_set_aside(cursor)
        conn.commit()
        answer = refused(
            conn,
            f"UPDATE \"{table}\" SET entered_in_error_at = NULL, entered_in_error_by_id = NULL, error_reason = ''"
            " WHERE id = %s",
            [administration.pk],
        )
        # Anything else about it may still change as before (the figures' stamp, a tablet's "filled by").
        with conn.cursor() as cursor:
            cursor.execute(f"UPDATE \"{table}\" SET filled_by = 'client' WHERE id = %s", [administration.pk])
        conn.commit()

    assert answer == "RaiseException: ERROR:  pgtrigger: Cannot update rows from assessments_administration table"
    assert marks(administration) == (True, therapist, REASON)
    assert Administration.objects.get(pk=administration.pk).filled_by == "client"


# -- Query counts -------------------------------------------------------------------------------------------------


def _page_queries(client, case) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("assessments:client", args=[case.pk]))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_questionnaires_page_reads_the_marked_ones_in_the_same_queries(client, therapist, case):
    """One marked questionnaire in this period, or four in an earlier one: the same queries, with who marked them
    read in the page's one query of questionnaires."""
    client.force_login(therapist)
    actor = Actor.for_user(therapist)
    services.administration_mark_in_error(actor=actor, administration=given(case), reason=REASON)
    one, page = _page_queries(client, case)
    assert page.count("<del>") == 1

    for time_point in (TimePoint.START, TimePoint.END, TimePoint.FOLLOW_UP):
        services.administration_mark_in_error(
            actor=actor, administration=given(case, time_point=time_point, code=YES_NO_OF[time_point]), reason=REASON
        )
    Episode.objects.filter(client=case).update(closed_on=timezone.localdate())
    Episode.objects.create(client=case, number=2, opened_on=timezone.localdate())
    four, page = _page_queries(client, case)

    assert page.count("<del>") == 4
    # The login session, its user, the second factor; the client through the gate, the access-log entry; the
    # current period; the questionnaires with who marked them.
    assert one == four == 7
