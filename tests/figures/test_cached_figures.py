"""The managers' figures are cached under stamps that PostgreSQL moves on every write to the data they count.

Three things must hold for a cached figure never to be stale: every table the figures read is watched (or is
written only together with one that is), every write to a watched table stamps the right clinic and no other,
and a request after a committed write computes the figures again. The first two run in the usual test
transaction; the last needs real commits, as between two requests.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import Administration, InstrumentVersion, TimePoint
from assessments.services import administration_mark_in_error, version_for
from clients.models import Episode
from figures import cached_figures, reports, statistics, year_report
from groups.models import GroupAttendance, GroupMeeting, GroupMember, GroupProgramme
from kast.actor import Actor
from kast.models import FiguresStamp, Role
from kast.triggers import SHARED
from relatives.models import ChildPerspective
from sessions.models import Attendance, FollowUp, FollowUpKind, Method, Note, SessionFee, SessionKind
from tests.factories import (
    ClientFactory,
    ClinicFactory,
    NoteFactory,
    TherapySessionFactory,
    UserFactory,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
)

#: Tables the figures read without a trigger of their own, and why no write to them can go unstamped.
UNWATCHED = {
    # Answers are written in the transaction that submits their administration (assessments.services), which
    # stamps; a submitted questionnaire's answers never change.
    "assessments_answer",
    # The items of a published version are final (a trigger refuses changes); publishing stamps the shared stamp.
    "assessments_item",
    "assessments_instrument",
    # The methods used are read through their note's session: a note never moves to another session, and it is
    # removed only with its methods (therapy_sessions_notemethod stamps). Saving a draft must not stamp: it
    # would empty the clinic's cache at every autosave.
    "therapy_sessions_note",
    # The persons treated count a couple or group session's other participants (figures.persons): they are
    # written only by sessions.services, in the transaction that saves their session, which stamps.
    "therapy_sessions_sessionparticipant",
    # The staff as it stood at a period's end (figures.statistics._staffing) is read from the accounts' history:
    # pghistory writes a row there only with a write to the account, whose own trigger stamps (old and new clinic).
    "kast_userevent",
}


def stamped() -> set[int]:
    return set(FiguresStamp.objects.values_list("clinic_id", flat=True))


@pytest.fixture
def world(gbg, mlm, therapist, other_clinic_therapist):
    record = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist)))
    elsewhere = ClientFactory(responsible_therapist=other_clinic_therapist)
    # Rows to change or remove: made before the stamps are cleared, so only the change itself can stamp.
    session = TherapySessionFactory(client=record)
    draft = NoteFactory(session=TherapySessionFactory(client=record), signed_at=None)
    draft.methods.add(Method.objects.filter(clinic=gbg).first())
    spare = ClientFactory(responsible_therapist=therapist)
    given = Administration.objects.create(
        client=record,
        episode=record.episodes.get(),
        time_point=TimePoint.END,
        version=version_for(TimePoint.END),
        created_by=therapist,
    )
    FiguresStamp.objects.all().delete()
    return {
        "gbg": gbg,
        "mlm": mlm,
        "therapist": therapist,
        "record": record,
        "elsewhere": elsewhere,
        "session": session,
        "draft": draft,
        "spare": spare,
        "administration": given,
    }


WRITES = {
    "new client": lambda w: ClientFactory(responsible_therapist=w["therapist"]),
    "client changed": lambda w: w["record"].save(),
    "client removed": lambda w: w["spare"].delete(),
    "treatment period": lambda w: Episode.objects.filter(client=w["record"]).update(closed_on=timezone.localdate()),
    "status change": lambda w: put_in_treatment(open_first_period(ClientFactory(responsible_therapist=w["therapist"]))),
    "session": lambda w: TherapySessionFactory(client=w["record"]),
    "session changed": lambda w: w["session"].save(),
    "session removed": lambda w: w["session"].delete(),
    "follow-up": lambda w: FollowUp.objects.create(
        client=w["record"],
        episode=w["record"].episodes.get(),
        kind=FollowUpKind.FOLLOW_UP,
        due_on=timezone.localdate(),
    ),
    "fee": lambda w: SessionFee.objects.create(clinic=w["gbg"], kind=SessionKind.INDIVIDUAL, amount=100),
    "questionnaire": lambda w: Administration.objects.create(
        client=w["record"],
        episode=w["record"].episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=w["therapist"],
    ),
    # Marking one as entered in error takes it out of the figures: an UPDATE, stamped like any other.
    "questionnaire entered in error": lambda w: administration_mark_in_error(
        actor=Actor.for_user(w["therapist"]), administration=w["administration"], reason="Fel klient"
    ),
    "relative linked": lambda w: link(relative_record(w["therapist"]), w["record"]),
    "child perspective": lambda w: ChildPerspective.objects.create(
        record=w["record"], children_in_household=1, updated_by=w["therapist"]
    ),
    "new therapist": lambda w: UserFactory(role=Role.THERAPIST, clinic=w["gbg"]),
    "therapist renamed": lambda w: type(w["therapist"]).objects.filter(pk=w["therapist"].pk).update(first_name="Ny"),
    "clinic renamed": lambda w: w["gbg"].save(),
    "method ticked": lambda w: w["draft"].methods.add(Method.objects.filter(clinic=w["gbg"]).last()),
    "method unticked": lambda w: w["draft"].methods.clear(),
    "clinic's own method": lambda w: Method.objects.create(clinic=w["gbg"], name="Egen metod"),
    "method renamed": lambda w: Method.objects.filter(clinic=w["gbg"]).update(name="Nytt namn"),
    # Group programmes: the programme names its clinic, a member its record, a meeting and an attendance reach the
    # clinic through the programme (groups.models.ProgrammeFiguresChanged).
    "group programme": lambda w: GroupProgramme.objects.create(
        clinic=w["gbg"], name="Grupp", start_date=timezone.localdate(), created_by=w["therapist"]
    ),
    "group member": lambda w: GroupMember.objects.create(
        programme=_before(w, "programme"), record=w["record"], joined_on=timezone.localdate()
    ),
    "group meeting": lambda w: GroupMeeting.objects.create(
        programme=_before(w, "programme"), date=timezone.localdate(), start_time=datetime.time(17, 0)
    ),
    "group attendance": lambda w: GroupAttendance.objects.create(
        meeting=_before(w, "meeting"), member=GroupMember.objects.get(), presence="attended", recorded_by=w["therapist"]
    ),
}


def _before(w, what: str):
    """A Göteborg programme (with a meeting and a member, for `what` "meeting"), made before the stamps are
    cleared again, so that only the write under test can stamp."""
    programme = GroupProgramme.objects.create(
        clinic=w["gbg"], name="Grupp", start_date=timezone.localdate(), created_by=w["therapist"]
    )
    made = programme
    if what == "meeting":
        GroupMember.objects.create(programme=programme, record=w["record"], joined_on=timezone.localdate())
        made = GroupMeeting.objects.create(programme=programme, date=timezone.localdate(), start_time=datetime.time(17))
    FiguresStamp.objects.all().delete()
    return made


@pytest.mark.parametrize("write", WRITES)
def test_every_write_to_the_counted_data_stamps_its_clinic_and_no_other(world, write):
    WRITES[write](world)
    assert stamped() == {world["gbg"].pk}


def test_a_write_in_another_clinic_stamps_only_that_clinic(world):
    TherapySessionFactory(client=world["elsewhere"])
    assert stamped() == {world["mlm"].pk}


def test_saving_a_drafts_text_changes_no_figure(world):
    """The autosave writes the note every few seconds: it must not empty the clinic's cache each time."""
    Note.objects.filter(pk=world["draft"].pk).update(text="Mer text.", updated_at=timezone.now())
    assert stamped() == set()


def test_a_login_changes_no_figure(world):
    world["therapist"].last_login = timezone.now()
    world["therapist"].save(update_fields=["last_login"])
    assert stamped() == set()


def test_a_new_questionnaire_version_stamps_what_every_clinic_shares(world):
    current = version_for(TimePoint.START)
    InstrumentVersion.objects.create(
        instrument=current.instrument, number=current.number + 1, time_points=current.time_points
    )
    assert stamped() == {SHARED}


def _tables_read(run) -> set[str]:
    with CaptureQueriesContext(connection) as queries:
        run()
    return {
        table for query in queries.captured_queries for table in re.findall(r'(?:FROM|JOIN)\s+"(\w+)"', query["sql"])
    }


def _watched_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%figures_changed%'")
        return {row[0] for row in cursor.fetchall()}


def test_the_figures_read_only_watched_tables(world, manager):
    """A figure that starts to read a new table fails here until the table is watched (or its writes are)."""
    today = timezone.localdate()
    selection = reports.selection_for(manager)
    read = (
        _tables_read(lambda: statistics.dashboard(world["gbg"], today.replace(month=1, day=1), today))
        | _tables_read(lambda: statistics.dashboard(None, today.replace(month=1, day=1), today))
        | _tables_read(lambda: reports.report_for(selection))
        | _tables_read(lambda: reports.report_for(reports.Selection(), by_clinic=True))
        | _tables_read(lambda: year_report.year_report(world["gbg"], today.year))
    )
    assert "therapy_sessions_therapysession" in read and "assessments_answer" in read  # the capture works
    assert read - _watched_tables() - {"kast_figuresstamp"} <= UNWATCHED


def test_figures_read_in_a_transaction_that_has_written_are_computed(world, manager):
    """Its own writes do not move the stamps again, so a cached figure could miss them."""
    start = timezone.localdate().replace(month=1, day=1)
    before = cached_figures.dashboard(world["gbg"], start, timezone.localdate())
    TherapySessionFactory(client=world["record"], date=timezone.localdate(), attendance=Attendance.ATTENDED)
    after = cached_figures.dashboard(world["gbg"], start, timezone.localdate())
    assert after.value.held == before.value.held + 1
    assert (before.key, after.timeout) == (None, 0)  # nor is their rendering kept


# --- Between requests: real commits ---------------------------------------------------------------------------


@pytest.fixture
def committed(transactional_db):
    gbg = ClinicFactory(name="Göteborg", code="GBG")
    mlm = ClinicFactory(name="Malmö", code="MLM")
    therapist = UserFactory(role=Role.THERAPIST, clinic=gbg)
    manager = UserFactory(role=Role.MANAGER, clinic=gbg)
    record = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist)))
    elsewhere = ClientFactory(responsible_therapist=UserFactory(role=Role.THERAPIST, clinic=mlm))
    return {"therapist": therapist, "manager": manager, "record": record, "elsewhere": elsewhere}


def _held_today(record, sessions: int = 1) -> None:
    for _n in range(sessions):
        TherapySessionFactory(client=record, date=timezone.localdate(), attendance=Attendance.ATTENDED)


def _get(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return response, len(queries)


#: A cached page's queries: the login session, the user with their clinic, the second factor's device, the stamps.
CACHED_QUERIES = 4
#: The dashboard's: the stamps once more, for the same period a year earlier (its key figures' change); and when
#: computed, nineteen figure queries for each of the two periods.
DASHBOARD_CACHED = CACHED_QUERIES + 1


def _held_this_month_charted(response) -> int:
    """This month's sessions held, as the page's chart draws them: rendered HTML, which is cached too."""
    data = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', response.content.decode())
    all_held = json.loads(data.group(1))["sessions_by_kind"]["datasets"][0]["data"]
    return all_held[timezone.localdate().month - 1]


def test_the_dashboard_is_counted_once_per_state_of_the_clinics_data(client, committed):
    client.force_login(committed["manager"])
    url, year = reverse("figures:dashboard"), {"period": "year"}
    _held_today(committed["record"], 5)  # five, so that the chart may draw them (figures.suppression)

    first, computed = _get(client, url, year)
    again, cached = _get(client, url, year)
    assert first.context["figures"].held == again.context["figures"].held == 5
    assert (computed, cached) == (DASHBOARD_CACHED + 2 * 19, DASHBOARD_CACHED)
    assert _held_this_month_charted(first) == _held_this_month_charted(again) == 5

    _held_today(committed["elsewhere"])  # another clinic's session: these figures stand
    assert _get(client, url, year)[1] == DASHBOARD_CACHED

    _held_today(committed["record"])  # committed, as a colleague's request would
    after, queries = _get(client, url, year)
    assert after.context["figures"].held == 6
    assert queries == DASHBOARD_CACHED + 2 * 19
    assert _held_this_month_charted(after) == 6


def test_the_questionnaire_reports_are_counted_once_per_state_of_the_clinics_data(client, committed):
    client.force_login(committed["manager"])
    url = reverse("figures:reports")
    for _n in range(4):  # five periods in treatment, so that the count is shown (figures.suppression)
        put_in_treatment(open_first_period(ClientFactory(responsible_therapist=committed["therapist"])))

    # Tables 1 and 2, paired change, coverage, the people who answered (nobody has answered twice, so no
    # wording is looked up).
    figure_queries = 5
    first, computed = _get(client, url)
    again, cached = _get(client, url)
    assert (computed, cached) == (CACHED_QUERIES + figure_queries, CACHED_QUERIES)
    assert [row.cells[0] for row in first.context["report"].coverage_by_group] == ["5"]
    assert again.context["report"] == first.context["report"]

    put_in_treatment(open_first_period(ClientFactory(responsible_therapist=committed["therapist"])))
    after, queries = _get(client, url)
    assert queries == CACHED_QUERIES + figure_queries
    assert [row.cells[0] for row in after.context["report"].coverage_by_group] == ["6"]  # the therapist
    assert '<td class="text-end">6</td>' in after.content.decode()  # the rendered tables are made again


def test_the_stamp_moves_with_each_committed_write(committed):
    clinic = committed["record"].clinic
    first = cached_figures.stamps(clinic)
    _held_today(committed["record"])
    second = cached_figures.stamps(clinic)
    _held_today(committed["record"])
    assert len({first, second, cached_figures.stamps(clinic)}) == 3


def test_the_yearly_reports_protection_is_worked_out_once_per_state_of_the_clinics_data(committed, monkeypatch):
    """The complementary suppression walks every sum of the year's figures: a second print reuses its marks."""
    from figures import suppression, year_report

    walked = []
    protected = suppression.Figures.protected

    def counted(figures):
        walked.append(1)
        return protected(figures)

    monkeypatch.setattr(suppression.Figures, "protected", counted)
    clinic, year = committed["manager"].clinic, timezone.localdate().year
    _held_today(committed["record"], 5)

    first = year_report.year_report(clinic, year)
    again = year_report.year_report(clinic, year)
    assert len(walked) == 1
    assert [table.rows for table, _chart in again["sections"]] == [table.rows for table, _chart in first["sections"]]

    _held_today(committed["record"])  # committed: the figures, and so their marks, are worked out again
    after = year_report.year_report(clinic, year)
    assert len(walked) == 2
    assert after["figures"].held == 6
