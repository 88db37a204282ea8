"""The client's answers side by side: one row per item code across versions, one column per submitted questionnaire,
for the client's therapists only, on the page and in the two PDFs, in a fixed number of queries."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pypdf import PdfReader

from assessments.models import Administration, Answer, InstrumentVersion, Item, ItemKind, TimePoint
from assessments.selectors import answers_over_time
from clients.models import Client, Episode
from kast.models import AccessLogEntry
from tests.factories import open_first_period, put_in_treatment

pytestmark = pytest.mark.django_db

#: Free text of a questionnaire marked as entered in error (given to the wrong client): it must never be shown.
SENTINEL = "SENTINEL-4711 någon annans svar"
REWORDED = "Hur mår du i dag, alldeles nu?"
SLEEP = "Hur sover du om nätterna?"
LEFT_OUT = ngettext(
    "%(count)s questionnaire marked as entered in error is left out: its answers may be someone else's.",
    "%(count)s questionnaires marked as entered in error are left out: their answers may be someone else's.",
    1,
)


def shipped(instrument: str) -> InstrumentVersion:
    """Version 1 as shipped by the migration (later versions may be published by data migrations: not these)."""
    return InstrumentVersion.objects.get(instrument__code=instrument, number=1)


def newer_start_version() -> InstrumentVersion:
    """A newer published start version: version 1's items, "wellbeing" reworded, and a new graded item "sleep"."""
    first = shipped("kast-start")
    number = InstrumentVersion.objects.filter(instrument=first.instrument).aggregate(n=Max("number"))["n"] + 1
    version = InstrumentVersion.objects.create(instrument=first.instrument, number=number, time_points=["start"])
    fields = [f.attname for f in Item._meta.concrete_fields if f.attname not in ("id", "version_id")]
    for item in first.items.all():
        copy = Item(version=version, **{name: getattr(item, name) for name in fields})
        if item.code == "wellbeing":
            copy.text = copy.text_en = REWORDED
        copy.save()
    last = max(item.position for item in first.items.all())
    Item.objects.create(
        version=version,
        code="sleep",
        position=last + 1,
        section=first.items.get(code="wellbeing").section,
        kind=ItemKind.SCALE,
        scale="wellbeing",
        text=SLEEP,
        text_en=SLEEP,
        higher_is_better=True,
    )
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])
    return version


def given(client, episode, time_point, version, on: datetime.date, answers: dict[str, dict]) -> Administration:
    administration = Administration.objects.create(
        client=client,
        episode=episode,
        time_point=time_point,
        version=version,
        created_by=client.responsible_therapist,
        submitted_at=datetime.datetime.combine(on, datetime.time(12), tzinfo=datetime.UTC),
    )
    items = {item.code: item for item in version.items.all()}
    Answer.objects.bulk_create(
        Answer(administration=administration, item=items[code], **values) for code, values in answers.items()
    )
    return administration


@pytest.fixture
def history(client_record, therapist):
    """Two treatment periods: period 1 start and end on version 1, period 2 start on a newer version; and a period-2
    end questionnaire marked as entered in error (someone else's answers)."""
    Client.objects.filter(pk=client_record.pk).update(target_groups=["buying_sex"])
    client_record.refresh_from_db()
    put_in_treatment(open_first_period(client_record))
    first = client_record.episodes.get()
    Episode.objects.filter(pk=first.pk).update(
        opened_on=datetime.date(2024, 1, 1), closed_on=datetime.date(2024, 12, 1)
    )
    second = Episode.objects.create(client=client_record, number=2, opened_on=datetime.date(2025, 3, 1))
    start, end, newer = shipped("kast-start"), shipped("kast-end"), newer_start_version()
    given(
        client_record,
        first,
        TimePoint.START,
        start,
        datetime.date(2024, 1, 10),
        {
            "wellbeing": {"value_int": 2},
            "has_partner": {"value_bool": True},
            "has_children": {"declined": True},
            "freq_buying_sex": {"value_int": 3},
            "last_buying_sex": {"value_date": datetime.date(2023, 12, 24)},
        },
    )
    given(
        client_record,
        first,
        TimePoint.END,
        end,
        datetime.date(2024, 11, 20),
        {"wellbeing": {"value_int": 3}, "freq_buying_sex": {"value_int": 1}, "came_as_often": {"value_bool": True}},
    )
    given(
        client_record,
        second,
        TimePoint.START,
        newer,
        datetime.date(2025, 3, 5),
        {"wellbeing": {"value_int": 4}, "sleep": {"value_int": 5}, "freq_buying_sex": {"declined": True}},
    )
    wrong = given(
        client_record,
        second,
        TimePoint.END,
        end,
        datetime.date(2025, 9, 1),
        {"wellbeing": {"value_int": 1}, "came_as_often": {"value_bool": False}},
    )
    Administration.objects.filter(pk=wrong.pk).update(
        entered_in_error_at=timezone.now(), entered_in_error_by=therapist, error_reason=SENTINEL
    )
    # Not submitted: a draft is not an answer yet.
    Administration.objects.create(
        client=client_record, episode=second, time_point=TimePoint.END, version=end, created_by=therapist
    )
    return client_record


def row(over_time, code):
    (found,) = [r for r in over_time.rows if r.code == code]
    return found


def shown(over_time, code) -> list[str]:
    return [cell.shown for cell in row(over_time, code).cells]


# -- What the table holds -----------------------------------------------------------------------------------------


def test_the_same_code_across_versions_is_one_row_with_the_newest_wording(history):
    over_time = answers_over_time(history)

    assert [column.label for column in over_time.columns] == [
        _("Period %(number)s: %(point)s") % {"number": 1, "point": TimePoint.START.label},
        _("Period %(number)s: %(point)s") % {"number": 1, "point": TimePoint.END.label},
        _("Period %(number)s: %(point)s") % {"number": 2, "point": TimePoint.START.label},
    ]
    assert [column.date for column in over_time.columns] == [
        datetime.date(2024, 1, 10),
        datetime.date(2024, 11, 20),
        datetime.date(2025, 3, 5),
    ]
    # "wellbeing" is on both start versions and on the end form: one row, in the newest wording.
    assert [r.code for r in over_time.rows].count("wellbeing") == 1
    assert row(over_time, "wellbeing").item.text == REWORDED
    assert shown(over_time, "wellbeing") == [_("Bad"), _("Neither good nor bad"), _("Good")]
    # Choice labels, yes/no, frequencies and dates as on the form; declined in words.
    assert shown(over_time, "freq_buying_sex") == [_("Weekly"), _("Less than monthly"), _("Does not want to answer")]
    assert [c.declined for c in row(over_time, "freq_buying_sex").cells] == [False, False, True]
    assert shown(over_time, "has_children") == [_("Does not want to answer"), "", ""]
    assert shown(over_time, "has_partner") == [_("Yes"), "", ""]
    assert shown(over_time, "last_buying_sex") == ["2023-12-24", "", ""]


def test_an_item_only_in_the_newer_version_has_empty_cells_before(history):
    over_time = answers_over_time(history)

    sleep = row(over_time, "sleep")
    assert [(cell.asked, cell.shown) for cell in sleep.cells] == [(False, ""), (False, ""), (True, _("Very good"))]
    # Not on the end form: empty and not asked; on the start form, asked but not answered.
    assert [cell.asked for cell in row(over_time, "has_partner").cells] == [True, False, True]


def test_rows_follow_the_newest_questionnaire_then_codes_only_in_older_ones(history):
    over_time = answers_over_time(history)
    codes = [r.code for r in over_time.rows]
    newest = InstrumentVersion.objects.get(instrument__code="kast-start", items__code="sleep")
    applying = [item.code for item in newest.items.order_by("position") if item.applies_to(["buying_sex"])]
    end_only = [
        item.code
        for item in shipped("kast-end").items.order_by("position")
        if item.applies_to(["buying_sex"]) and item.code not in applying
    ]
    assert codes == applying + end_only
    assert "came_as_often" in end_only


def test_a_question_for_another_target_group_is_a_row_only_once_answered(history):
    Answer.objects.filter(administration__client=history, item__code="last_buying_sex").delete()
    Client.objects.filter(pk=history.pk).update(target_groups=["compulsive"])
    history.refresh_from_db()

    codes = [r.code for r in answers_over_time(history).rows]

    assert "last_buying_sex" not in codes  # not on this client's forms now, and never answered
    assert "freq_buying_sex" in codes  # answered when the client was in that group: the answers stay in view


def test_those_entered_in_error_and_drafts_are_left_out_and_counted(history):
    over_time = answers_over_time(history)

    assert len(over_time.columns) == 3
    assert over_time.left_out == 1
    assert _("Very bad") not in [cell.shown for r in over_time.rows for cell in r.cells]


def test_graded_items_have_a_chart_with_a_text_alternative(history):
    over_time = answers_over_time(history)

    chart = row(over_time, "wellbeing").chart
    assert chart.startswith("<svg") and 'role="img"' in chart
    assert f"<title>{REWORDED}, " in chart
    assert str(_("Neither good nor bad")) in chart
    # Three answers on a line: two dots up (2, 3, 4) joined by one line.
    assert chart.count("<circle") == 3 and chart.count("<polyline") == 1
    # Declined at the third: two dots; the line breaks there.
    assert row(over_time, "freq_buying_sex").chart.count("<circle") == 2
    assert row(over_time, "has_partner").chart is None  # yes/no: not graded
    assert row(over_time, "last_buying_sex").chart is None


# -- The page ------------------------------------------------------------------------------------------------------


def url(record) -> str:
    return reverse("assessments:over_time", args=[record.pk])


def test_the_clients_therapist_sees_the_table_and_the_read_is_logged(client, therapist, history):
    client.force_login(therapist)

    page = client.get(reverse("assessments:client", args=[history.pk]))
    assert url(history) in page.content.decode()  # reached from the questionnaires page
    response = client.get(url(history))

    assert response.status_code == 200
    text = re.sub(r"\s+", " ", response.content.decode())
    assert REWORDED in text and SLEEP in text
    assert SENTINEL not in text
    assert "<svg" in text
    assert LEFT_OUT % {"count": 1} in text
    entry = AccessLogEntry.objects.get(user=therapist, action=AccessLogEntry.Action.VIEW, path=url(history))
    assert (entry.client_id, entry.object_type) == (history.pk, "clients.client")


@pytest.mark.parametrize("persona", ["colleague", "other_clinic_therapist"])
def test_others_are_refused_and_the_refusal_is_logged(client, history, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)

    response = client.get(url(history))

    assert response.status_code == 404
    assert REWORDED not in response.content.decode()
    assert AccessLogEntry.objects.filter(user=user, action=AccessLogEntry.Action.DENIED, client_id=history.pk).exists()


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_managers_and_administrators_see_no_answers(client, history, persona, request):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(url(history)).status_code == 403


def test_a_co_therapist_sees_the_table(client, colleague, history):
    history.co_therapists.add(colleague)
    client.force_login(colleague)

    assert REWORDED in client.get(url(history)).content.decode()


def test_with_nothing_submitted_the_page_says_so(client, therapist, client_record):
    put_in_treatment(open_first_period(client_record))
    client.force_login(therapist)

    response = client.get(url(client_record))

    assert response.status_code == 200
    assert _("No questionnaire submitted yet.") in response.content.decode()


def more_periods(record, count: int) -> None:
    """`count` more closed periods, each with a submitted start and end questionnaire answering every item."""
    start, end = shipped("kast-start"), shipped("kast-end")
    top = record.episodes.aggregate(n=Max("number"))["n"]
    Episode.objects.filter(client=record, closed_on__isnull=True).update(closed_on=datetime.date(2025, 6, 1))
    for n in range(top + 1, top + 1 + count):
        episode = Episode.objects.create(
            client=record, number=n, opened_on=datetime.date(2025, 6, 1), closed_on=datetime.date(2025, 6, 1)
        )
        for point, version in ((TimePoint.START, start), (TimePoint.END, end)):
            answers = {item.code: {"declined": True} for item in version.items.all() if item.kind != ItemKind.SCALE} | {
                item.code: {"value_int": 1 + n % 5} for item in version.items.all() if item.kind == ItemKind.SCALE
            }
            given(record, episode, point, version, datetime.date(2025, 6, 1), answers)


def test_the_number_of_queries_does_not_grow_with_the_answers(client, therapist, history):
    client.force_login(therapist)

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(history)).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    small = queries()
    more_periods(history, 4)
    large = queries()

    assert len(answers_over_time(history).columns) == 11
    assert len(large) == len(small)
    # The login session, the user, their second-factor device; the gate's read of the record and the log row; the
    # questionnaires, the items of their versions, their answers.
    assert len(small) == 8, "\n".join(small)


# -- In the two PDFs ----------------------------------------------------------------------------------------------


def flat_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(
    "printed",
    [
        lambda record: reverse("clients:intake_pdf", args=[record.pk]),
        lambda record: reverse("archive:right_of_access", args=[record.pk]),
    ],
    ids=["intake summary", "right of access"],
)
def test_both_prints_hold_the_answers_side_by_side(client, therapist, history, printed):
    client.force_login(therapist)

    text = flat_text(client.post(printed(history)))

    assert _("Questionnaire answers side by side") in text
    assert "2024-01-10" in text and "2024-11-20" in text and "2025-03-05" in text
    # One row: the newest wording, then the three answers in order.
    assert f"{REWORDED} {_('Bad')} {_('Neither good nor bad')} {_('Good')}" in text
    assert f"{SLEEP} {_('Very good')}" in text
    # The one entered in error is left out (its answer "very bad"; its reason is listed in the extract only).
    assert _("Very bad") not in text
    assert LEFT_OUT % {"count": 1} in text


def test_the_selector_reads_in_three_queries_at_any_size(history, django_assert_num_queries):
    # The questionnaires (with their periods), the items of their versions, the answers.
    with django_assert_num_queries(3):
        small = answers_over_time(history)
    more_periods(history, 3)
    with django_assert_num_queries(3):
        large = answers_over_time(history)

    assert (len(small.columns), len(large.columns)) == (3, 9)
    # More periods add columns, not rows: the same codes (the answers all on items already there), now in the order
    # of the newest questionnaire (an end form).
    assert sorted(r.code for r in large.rows) == sorted(r.code for r in small.rows)
    assert large.rows[0].code == shipped("kast-end").items.order_by("position").first().code


def test_the_chart_escapes_its_text_alternative():
    from assessments.sparkline import sparkline_svg

    svg = sparkline_svg([1, None, 3], lowest=1, highest=5, description='<script>alert("x")</script>')

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert svg.count("<circle") == 2 and "<polyline" not in svg  # the gap breaks the line


def test_a_code_whose_steps_changed_keeps_its_row_but_draws_only_comparable_answers(history):
    newer = InstrumentVersion.objects.get(instrument__code="kast-start", items__code="sleep")
    changed = InstrumentVersion.objects.create(
        instrument=newer.instrument, number=newer.number + 1, time_points=["start"]
    )
    fields = [f.attname for f in Item._meta.concrete_fields if f.attname not in ("id", "version_id")]
    for item in newer.items.all():
        copy = Item(version=changed, **{name: getattr(item, name) for name in fields})
        if item.code == "freq_buying_sex":  # from how often to how much one agrees: other steps
            copy.kind, copy.scale = ItemKind.SCALE, "agreement"
        copy.save()
    Episode.objects.filter(client=history, number=2).update(closed_on=datetime.date(2025, 12, 1))
    third = Episode.objects.create(client=history, number=3, opened_on=datetime.date(2026, 1, 1))
    given(history, third, TimePoint.START, changed, datetime.date(2026, 1, 5), {"freq_buying_sex": {"value_int": 4}})

    freq = row(answers_over_time(history), "freq_buying_sex")

    assert [cell.shown for cell in freq.cells] == [
        _("Weekly"),
        _("Less than monthly"),
        _("Does not want to answer"),
        _("Agree partly"),
    ]
    assert [cell.graded for cell in freq.cells] == [None, None, None, 4]
    assert freq.chart.count("<circle") == 1
