"""The start page, the timeline and the note page make the same number of queries with 1 or 200 sessions of history."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Administration, TimePoint
from assessments.services import version_for
from clients.models import CaseStatus, Client, Episode
from sessions.models import (
    Addendum,
    Attendance,
    FollowUp,
    FollowUpKind,
    Method,
    MethodCode,
    Note,
    NoteMethod,
    NoteTheme,
    SessionKind,
    Theme,
    TherapySession,
)
from tests.factories import NoteFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def grow_history(case, therapist, colleague, size: int) -> list[TherapySession]:
    """`size` sessions of `case`, one a day back from three days ahead, held by Anna (every third with Bertil).

    Past ones are held, future ones booked; of the held ones two in five have a signed note, one in five a
    draft (with themes), the rest none. Inserted in bulk: the pages, not the factories, are measured.
    """
    today = timezone.localdate()
    episode = Episode.objects.get(client=case)
    themes = list(Theme.objects.filter(clinic=case.clinic)[:3])
    methods = list(Method.objects.filter(clinic=case.clinic)[:2])
    sessions = TherapySession.objects.bulk_create(
        TherapySession(
            clinic=case.clinic,
            client=case,
            episode=episode,
            kind=[SessionKind.INDIVIDUAL, SessionKind.COUPLE, SessionKind.RELATIVE][n % 3],
            date=today + (3 - n) * DAY,
            start_time=datetime.time(8 + n % 9, 0),
            attendance=Attendance.ATTENDED if n >= 3 else Attendance.BOOKED,
            created_by=therapist,
        )
        for n in range(size)
    )
    Through = TherapySession.therapists.through
    Through.objects.bulk_create(
        [Through(therapysession=s, user=therapist) for s in sessions]
        + [Through(therapysession=s, user=colleague) for s in sessions[::3]]
    )
    held = [s for s in sessions if s.attendance == Attendance.ATTENDED]
    # Written unsigned so their themes can be added, then signed (a signed note's themes are final).
    notes = Note.objects.bulk_create(
        Note(session=s, author=therapist, text=f"Anteckning {n}.") for n, s in enumerate(held) if n % 5 < 3
    )
    NoteTheme.objects.bulk_create(NoteTheme(note=note, theme=theme) for note in notes for theme in themes)
    NoteMethod.objects.bulk_create(NoteMethod(note=note, method=method) for note in notes for method in methods)
    Note.objects.filter(pk__in=[note.pk for n, note in enumerate(notes) if n % 3 < 2]).update(signed_at=timezone.now())
    return sessions


@pytest.fixture
def history(case, therapist, colleague):
    def make(size: int) -> list[TherapySession]:
        return grow_history(case, therapist, colleague, size)

    return make


SIZES = [1, 200]


def grow_follow_ups(therapist, size: int) -> None:
    """`size` more ended clients of the therapist, each with a follow-up due within the start page's 30 days."""
    today = timezone.localdate()
    clients = Client.objects.bulk_create(
        Client(
            clinic=therapist.clinic,
            responsible_therapist=therapist,
            code=f"GBG-2025-{n:04d}",
            status=CaseStatus.ENDED,
            first_contact_date=today - 400 * DAY,
        )
        for n in range(size)
    )
    episodes = Episode.objects.bulk_create(
        Episode(client=c, number=1, opened_on=today - 400 * DAY, closed_on=today - 180 * DAY, end_reason="other")
        for c in clients
    )
    FollowUp.objects.bulk_create(
        FollowUp(client=c, episode=e, kind=FollowUpKind.FOLLOW_UP, due_on=today + (n % 60 - 29) * DAY)
        for n, (c, e) in enumerate(zip(clients, episodes, strict=True))
    )


@pytest.mark.parametrize("size", SIZES)
def test_start_page_query_count(client, therapist, history, size, django_assert_num_queries):
    history(size)
    grow_follow_ups(therapist, size)
    client.force_login(therapist)

    # 1 session, 2 user and clinic, 3 the second factor's device, 4 the week's sessions with client and note, 5 the
    # drafts with session and client, 6 the sessions without a note, 7 the follow-ups due with their client, 8 the
    # quick-log form's clients
    with django_assert_num_queries(8):
        response = client.get(reverse("home"))

    assert response.status_code == 200
    start = response.context["start"]
    # With 200 the lists are long: every draft, and every held session without a note.
    assert len(start.drafts) == Note.objects.filter(signed_at__isnull=True).count()
    assert (
        len(start.undocumented)
        == TherapySession.objects.filter(note__isnull=True, attendance=Attendance.ATTENDED).count()
    )
    assert (len(start.drafts), len(start.undocumented)) == ((0, 0) if size == 1 else (39, 78))
    assert len(start.follow_ups) == (1 if size == 1 else 200)
    # Long lists are cut at 50 on the page, and the page says so.
    listed = response.content.decode().count("· " + _("no note yet"))
    assert listed == min(len(start.undocumented), 50)
    cut = _(
        "The 50 oldest of each are listed: %(notes)s sessions without a note and %(drafts)s drafts in all. "
        "Every session is on its client's timeline."
    )
    assert (cut % {"notes": 78, "drafts": 39} in response.content.decode()) is (size == 200)
    assert len(response.context["quick_log_form"].fields["client"].queryset) == size + 1


@pytest.mark.parametrize("size", SIZES)
def test_timeline_query_count(client, therapist, case, history, size, django_assert_num_queries):
    history(size)
    Administration.objects.create(
        client=case,
        episode=case.episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=therapist,
        submitted_at=timezone.now(),
    )
    client.force_login(therapist)

    # 1 session, 2 user and clinic, 3 the second factor's device, 4 the client with clinic and responsible
    # therapist, 5 insert the access-log entry, 6 count for the paginator (the UNION), 7 the page of (kind, id,
    # time), 8 that page's sessions with note, author, marker and addendum count, 9 its status changes with author
    # and period, 10 its questionnaires with their instrument, 11 the voided count
    with django_assert_num_queries(11):
        response = client.get(reverse("sessions:timeline", args=[case.pk]))

    assert response.status_code == 200
    # Three status changes (contact -> in treatment) and the start questionnaire besides the sessions.
    assert len(response.context["entries"]) == min(size + 4, 25)
    assert "questionnaire" in [entry.kind for entry in response.context["entries"]]


@pytest.mark.parametrize("size", SIZES)
def test_note_page_query_count_for_a_draft(client, therapist, case, history, size, django_assert_num_queries):
    history(size)
    # The clinic's own methods and themes too: 1 or 200 of each, every one ticked on the draft.
    own_methods = Method.objects.bulk_create(
        Method(clinic=case.clinic, name=f"Egen metod {n}", position=100 + n) for n in range(size)
    )
    own_themes = Theme.objects.bulk_create(
        Theme(clinic=case.clinic, name=f"Eget tema {n}", questions="Egen fråga?", position=100 + n) for n in range(size)
    )
    draft = NoteFactory(session=TherapySessionFactory(client=case), signed_at=None)
    draft.themes.set([*Theme.objects.filter(clinic=case.clinic, topic__gt="")[:2], *own_themes])
    draft.methods.set([*Method.objects.filter(clinic=case.clinic, code__gt="")[:2], *own_methods])
    client.force_login(therapist)

    # 1 session, 2 user and clinic, 3 the second factor's device, 4 the session with its clinic, client, client's
    # clinic, period, note and author, 5 insert the access-log entry, 6 the note's themes (kept even if out of use;
    # also the form's initial), 7 the note's methods (likewise), 8 the session's therapists (the form's initial),
    # 9 the clinic's themes for the clinic's own questions beside the guide, 10 the other participants' codes (the
    # form's initial), 11 the clinic's therapists for the checkboxes, 12 the clinic's themes for the checkboxes,
    # 13 the clinic's methods for the checkboxes, 14 the therapists' sessions that day that could overlap, 15 the period's goals for the
    # goals card (none here; with goals, tests/clients/test_goals.py)
    with django_assert_num_queries(15):
        response = client.get(reverse("sessions:detail", args=[draft.session.pk]))

    assert response.status_code == 200
    assert response.context["note"] == draft
    form = response.context["note_form"]
    assert len(form.fields["methods"].queryset) == len(MethodCode) + size
    assert len(form.initial["methods"]) == 2 + size
    assert len(response.context["own_themes"]) == size


@pytest.mark.parametrize("size", SIZES)
def test_note_page_query_count_for_a_signed_note_with_addenda(
    client, therapist, colleague, case, history, size, django_assert_num_queries
):
    history(size)
    session = TherapySessionFactory(client=case, therapists=[therapist, colleague])
    note = NoteFactory(session=session, signed_at=None)
    note.themes.set(Theme.objects.filter(clinic=case.clinic)[:2])
    Note.objects.filter(pk=note.pk).update(signed_at=timezone.now())
    Addendum.objects.bulk_create(Addendum(note=note, author=therapist, text=f"Tillägg {n}.") for n in range(size))
    client.force_login(therapist)

    # 1 session, 2 user and clinic, 3 the second factor's device, 4 the session with client, clinic, period, note
    # and author, 5 insert the access-log entry, 6 the author's addendum draft, 7 the note's themes, 8 the note's
    # methods, 9 the session's therapists, 10 the addenda with their authors, 11 the period's goals for the goals
    # card (none here; with goals, tests/clients/test_goals.py)
    with django_assert_num_queries(11):
        response = client.get(reverse("sessions:detail", args=[session.pk]))

    assert response.status_code == 200
    assert len(response.context["addenda"]) == size
