"""Retention ("gallring"): `manage.py retention` removes exactly the records whose retention time has run out.

The clock is frozen: each record is written at the dates it says, then the command runs on a given day.
Every row of every table is compared before and after, so a row removed that should not be, or any row
changed, fails the test.
"""

from __future__ import annotations

import datetime
import io
import uuid
import zoneinfo
from collections import Counter
from contextlib import contextmanager

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import CASCADE, SET_NULL
from psycopg2 import sql

from archive import services
from archive.models import RemovalRecord, RetentionHold
from archive.selectors import records_due, retention_cutoff
from assessments.models import Administration, Answer, Item, TabletCode, TimePoint
from assessments.services import version_for
from clients.models import CaseStatus, Client, Episode, StatusChange
from groups.models import GroupAttendance, GroupMeeting, GroupMember, GroupProgramme
from relatives.models import ChildPerspective, Goal, ReactionReview, RelativeLink
from sessions.models import (
    Addendum,
    FollowUp,
    FollowUpKind,
    Method,
    Note,
    NoteMethod,
    NoteTheme,
    SessionKind,
    SessionParticipant,
    Theme,
    TherapySession,
)
from tests.factories import (
    AssessmentConversationFactory,
    ClientFactory,
    DeepInterviewSectionFactory,
    FamilyMemberFactory,
    FamilyRelationshipFactory,
    NoteFactory,
    TherapySessionFactory,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
)

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
#: Kept whatever happens to the records: the access log outlives them, and removals leave a RemovalRecord.
KEPT_LOGS = {"kast_accesslogentry", "archive_removalrecord"}


def moment(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=STOCKHOLM)


@contextmanager
def at(*args):
    """Everything written inside happens at this local time (defaults, auto_now, `timezone.localdate()`)."""
    with time_machine.travel(moment(*args), tick=False):
        yield


def rows() -> dict[str, set[str]]:
    """Every row of every table, as text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY relname"
        )
        tables = [name for (name,) in cursor.fetchall()]
        result = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(table)))
            result[table] = {row for (row,) in cursor.fetchall()}
        return result


def removed_rows(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, int]:
    return {
        table: len(before[table] - after.get(table, set()))
        for table in before
        if before[table] - after.get(table, set())
    }


def retention(*args) -> str:
    out = io.StringIO()
    call_command("retention", *args, stdout=out)
    return out.getvalue()


def full_record(therapist, colleague, code: str) -> Client:
    """A client with something in every part of the record, written in 2019-2020; the last entry is a status
    change at 23:30 on New Year's Eve 2020 (22:30 UTC, the same day in Stockholm and in UTC)."""
    with at(2019, 3, 1, 10):
        record = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist, code=code)))
        record.co_therapists.add(colleague)
        AssessmentConversationFactory(client=record, decision="accepted")
        DeepInterviewSectionFactory(client=record, section="childhood", updated_by=therapist)
        mother = FamilyMemberFactory(client=record, label="Mamma", relation="parent", sex="female")
        father = FamilyMemberFactory(client=record, label="Pappa", relation="parent", sex="male")
        record.family_members.get(relation="client").parents.set([mother, father])
        FamilyRelationshipFactory(client=record, a=father, b=mother, kind="married")
        ChildPerspective.objects.create(record=record, children_in_household=1, updated_by=therapist)
    with at(2019, 5, 2, 14):
        # Themes go on the draft (a trigger refuses them on a signed note), then it is signed.
        signed = NoteFactory(session=TherapySessionFactory(client=record), signed_at=None)
        NoteTheme.objects.bulk_create(
            [NoteTheme(note=signed, theme=theme) for theme in Theme.objects.filter(clinic=record.clinic)[:2]]
        )
        NoteMethod.objects.bulk_create(
            [NoteMethod(note=signed, method=method) for method in Method.objects.filter(clinic=record.clinic)[:3]]
        )
        Note.objects.filter(pk=signed.pk).update(signed_at=moment(2019, 5, 2, 15))
    with at(2019, 5, 3, 9):
        Addendum.objects.create(note=signed, author=therapist, text="SENTINEL-tillägg")
        NoteFactory(session=TherapySessionFactory(client=record), signed_at=None)  # a draft, never signed
        TherapySessionFactory(client=record, voided_at=moment(2019, 5, 3, 9), voided_by=therapist, void_reason="Fel")
    with at(2020, 2, 1, 10):
        episode = record.episodes.get()
        administration = Administration.objects.create(
            client=record,
            episode=episode,
            time_point=TimePoint.START,
            version=version_for(TimePoint.START),
            created_by=therapist,
            submitted_at=moment(2020, 2, 1, 10),
        )
        items = {item.code: item for item in Item.objects.filter(version=administration.version)}
        Answer.objects.create(administration=administration, item=items["has_partner"], value_bool=True)
        Answer.objects.create(administration=administration, item=items["has_children"], declined=True)
        TabletCode.objects.create(
            administration=administration,
            code_hash=uuid.uuid4().hex * 2,
            created_by=therapist,
            expires_at=moment(2020, 2, 1, 12),
        )
        FollowUp.objects.create(
            client=record, episode=episode, kind=FollowUpKind.FOLLOW_UP, due_on=datetime.date(2020, 9, 1)
        )
    with at(2020, 12, 31, 23, 30):
        StatusChange.objects.create(
            client=record, episode=episode, from_status="in_treatment", to_status="ended", by=therapist
        )
        Episode.objects.filter(pk=episode.pk).update(closed_on=datetime.date(2020, 12, 31), end_reason="goal_reached")
        Client.objects.filter(pk=record.pk).update(status=CaseStatus.ENDED)
    return record


@pytest.fixture
def clinic_records(therapist, colleague, other_clinic_therapist, admin):
    """Records around the boundary of the run on 2026-01-01 (cutoff 2021-01-01), by name."""
    records = {"expired": full_record(therapist, colleague, "GBG-2019-0001")}
    # A relative linked to the expired client in its last year, with support of their own until 2023: stays.
    with at(2020, 5, 1, 10):
        records["relative"] = relative_record(therapist, code="GBG-2020-0002")
        link(records["relative"], records["expired"])
    with at(2023, 4, 1, 10):
        ReactionReview.objects.create(
            relative=records["relative"], loss_of_control=3, guilt=2, shame=2, displaced_anger=1, recorded_by=therapist
        )
        Goal.objects.create(relative=records["relative"], text="Sova bättre", created_by=therapist)
    # Its last entry is a note signed ten minutes into 2021 in Stockholm (still 2020 in UTC): stays.
    with at(2019, 1, 10, 10):
        records["new_year"] = open_first_period(ClientFactory(responsible_therapist=therapist, code="GBG-2019-0003"))
    with at(2020, 12, 31, 15):
        draft = NoteFactory(session=TherapySessionFactory(client=records["new_year"]), signed_at=None)
    with at(2021, 1, 1, 0, 10):
        Note.objects.filter(pk=draft.pk).update(signed_at=moment(2021, 1, 1, 0, 10))
    # Last entry long ago, but on hold: stays, reported as held.
    with at(2017, 2, 2, 10):
        records["held"] = open_first_period(ClientFactory(responsible_therapist=therapist, code="GBG-2017-0004"))
        NoteFactory(session=TherapySessionFactory(client=records["held"]))
    with at(2024, 6, 1, 10):
        RetentionHold.objects.create(client=records["held"], reason="Överklagande, dnr 2024-17", placed_by=admin)
    # A questionnaire started in 2020 and submitted in February 2021: stays.
    with at(2019, 6, 1, 10):
        records["late_answers"] = open_first_period(
            ClientFactory(responsible_therapist=therapist, code="GBG-2019-0005")
        )
    with at(2020, 11, 1, 10):
        late = Administration.objects.create(
            client=records["late_answers"],
            episode=records["late_answers"].episodes.get(),
            time_point=TimePoint.START,
            version=version_for(TimePoint.START),
            created_by=therapist,
        )
    with at(2021, 2, 1, 10):
        Administration.objects.filter(pk=late.pk).update(submitted_at=moment(2021, 2, 1, 10))
    # Nothing but a first contact in June 2020: goes.
    with at(2020, 6, 1, 10):
        records["contact_only"] = ClientFactory(responsible_therapist=therapist, code="GBG-2020-0006")
    # Another clinic's record from 2015: goes (a year earlier than the rest).
    with at(2015, 2, 2, 10):
        records["old"] = open_first_period(
            ClientFactory(responsible_therapist=other_clinic_therapist, code="MLM-2015-0001")
        )
    return records


def test_the_cutoff_is_the_first_of_january_five_years_back():
    assert retention_cutoff(datetime.date(2026, 1, 1)) == datetime.date(2021, 1, 1)
    assert retention_cutoff(datetime.date(2026, 12, 31)) == datetime.date(2021, 1, 1)
    assert retention_cutoff(datetime.date(2025, 12, 31)) == datetime.date(2020, 1, 1)


def test_the_last_entry_is_computed_per_record_in_one_query(clinic_records, django_assert_num_queries):
    with at(2026, 1, 1, 10), django_assert_num_queries(2):  # the records due with their last entries; the holds
        due = {record.code: record for record in records_due(datetime.date(2026, 1, 1))}

    assert {code: (d.last_entry, d.held) for code, d in due.items()} == {
        "GBG-2019-0001": (datetime.date(2020, 12, 31), False),
        "GBG-2017-0004": (datetime.date(2017, 2, 2), True),
        "GBG-2020-0006": (datetime.date(2020, 6, 1), False),
        "MLM-2015-0001": (datetime.date(2015, 2, 2), False),
    }


def test_retention_removes_exactly_the_expired_records(clinic_records, caplog):
    expired = [clinic_records[name] for name in ("expired", "contact_only", "old")]
    survivors = [clinic_records[name] for name in ("relative", "new_year", "held", "late_answers")]
    expired_ids = {str(r.pk) for r in expired} | {
        str(pk) for pk in TherapySession.objects.filter(client__in=expired).values_list("pk", flat=True)
    }
    before = rows()

    with at(2026, 1, 1, 10):
        dry_run = retention()
        assert rows() == before  # a dry run changes nothing
        applied = retention("--apply")
    after = rows()

    # Nothing was added or changed but the removal records; everything removed belongs to an expired record.
    assert {table for table in after if after[table] - before.get(table, set())} == {"archive_removalrecord"}
    assert removed_rows(before, after) == {
        "clients_client": 3,
        "clients_client_co_therapists": 1,
        "clients_episode": 2,  # the full record's and the old record's periods (the contact only has none)
        "clients_statuschange": 5,  # contact, assessment, in treatment, ended; the old record's contact
        "clients_assessmentconversation": 1,
        "clients_deepinterviewsection": 1,
        "clients_familymember": 4,  # the full record's centre, mother and father; the old record's centre
        "clients_familymember_parents": 2,
        "clients_familyrelationship": 1,
        "therapy_sessions_therapysession": 3,  # signed, draft, wrongly recorded
        "therapy_sessions_therapysession_therapists": 3,
        "therapy_sessions_note": 2,  # the signed one and the draft
        "therapy_sessions_notetheme": 2,
        "therapy_sessions_notemethod": 3,
        "therapy_sessions_addendum": 1,
        "therapy_sessions_followup": 1,
        "assessments_administration": 1,
        "assessments_answer": 2,
        "assessments_tabletcode": 1,
        "relatives_relativelink": 1,
        "relatives_childperspective": 1,
        # History: every insert and update of the tracked rows above.
        "clients_clientevent": 5,  # 3 inserts; the full record's status to in treatment, then to ended
        "clients_assessmentconversationevent": 1,
        "clients_deepinterviewsectionevent": 1,
        "clients_familymemberevent": 4,
        "clients_familyrelationshipevent": 1,
        "therapy_sessions_followupevent": 1,
        "relatives_relativelinkevent": 1,
        "relatives_childperspectiveevent": 1,
    }
    # No row left anywhere (but the logs kept on purpose) names an expired record or one of its sessions.
    for table, texts in after.items():
        if table not in KEPT_LOGS:
            assert not [t for t in texts if any(pk in t for pk in expired_ids)], table
    for survivor in survivors:
        assert Client.objects.filter(pk=survivor.pk).exists()
    assert RelativeLink.objects.filter(relative=clinic_records["relative"]).count() == 0

    # What was removed, codes and counts only: printed, in the log and in one RemovalRecord per record.
    removal = RemovalRecord.objects.get(code="GBG-2019-0001")
    assert (removal.client_id, removal.kind, removal.last_entry) == (
        clinic_records["expired"].pk,
        "client",
        datetime.date(2020, 12, 31),
    )
    assert removal.counts["therapy_sessions.Note"] == 2
    assert sum(r.total for r in RemovalRecord.objects.all()) == sum(removed_rows(before, after).values())
    assert sorted(RemovalRecord.objects.values_list("code", flat=True)) == [
        "GBG-2019-0001",
        "GBG-2020-0006",
        "MLM-2015-0001",
    ]
    for output, verb in ((dry_run, "Would remove"), (applied, "Removed")):
        assert f"{verb}: GBG-2019-0001 (client, last entry 2020-12-31): " in output
        assert "Held: GBG-2017-0004 (client, last entry 2017-02-02), hold placed 2024-06-01 by erik" in output
        assert f"{verb} 3 records ({removal_total()} rows); 1 held." in output
        for code in ("GBG-2020-0002", "GBG-2019-0003", "GBG-2019-0005"):
            assert code not in output
    assert "Dry run" in dry_run
    assert [r.getMessage().split(" (")[0] for r in caplog.records if r.name == "archive.services"] == [
        "Retention removed GBG-2019-0001",
        "Retention removed GBG-2020-0006",
        "Retention removed MLM-2015-0001",
    ]


def removal_total() -> int:
    return sum(r.total for r in RemovalRecord.objects.all())


def test_a_day_earlier_only_the_older_record_is_due(clinic_records):
    """On New Year's Eve 2025 the cutoff is 2020-01-01: the records whose last entry is in 2020 wait a day."""
    with at(2025, 12, 31, 23, 59):
        output = retention("--apply")

    assert list(RemovalRecord.objects.values_list("code", flat=True)) == ["MLM-2015-0001"]
    assert Client.objects.filter(pk=clinic_records["expired"].pk).exists()
    assert "Removed 1 records" in output


def test_a_second_run_removes_nothing_more(clinic_records):
    with at(2026, 1, 1, 10):
        retention("--apply")
        before = rows()
        output = retention("--apply")

    assert rows() == before
    assert "Removed 0 records (0 rows); 1 held." in output


def test_a_record_written_to_after_it_was_listed_is_kept(clinic_records):
    """The removal looks at the record again under a lock: a late entry (or a hold) saves it."""
    expired = clinic_records["expired"]
    with at(2026, 1, 1, 10):
        TherapySessionFactory(client=expired)
        with pytest.raises(services.NotDue):
            services.record_remove(record_id=expired.pk, today=datetime.date(2026, 1, 1))
    assert Client.objects.filter(pk=expired.pk).exists()


def test_a_lifted_hold_lets_the_record_go(clinic_records):
    RetentionHold.objects.filter(client=clinic_records["held"]).delete()

    with at(2026, 1, 1, 10):
        retention("--apply")

    assert not Client.objects.filter(pk=clinic_records["held"].pk).exists()


@pytest.fixture
def joint(therapist):
    """Couple sessions between records that expire and records that stay.

    - `x` (expired) logged a couple session with `p` (stays: a session of their own in 2024);
    - `q` (stays) logged a couple session that `x` took part in;
    - `x` logged a group session with `y` (expired too) and `p`.
    """
    with at(2019, 4, 1, 10):
        x, y, p, q = (
            open_first_period(ClientFactory(responsible_therapist=therapist, code=f"GBG-2019-01{n}")) for n in range(4)
        )
        on_x = TherapySessionFactory(client=x, kind=SessionKind.COUPLE)
        SessionParticipant.objects.create(session=on_x, client=p, episode=p.episodes.get())
        NoteFactory(session=on_x, text="SENTINEL-gemensam anteckning")
        on_q = TherapySessionFactory(client=q, kind=SessionKind.COUPLE, start_time=datetime.time(12))
        SessionParticipant.objects.create(session=on_q, client=x, episode=x.episodes.get())
        NoteFactory(session=on_q)
        group = TherapySessionFactory(client=x, kind=SessionKind.GROUP, start_time=datetime.time(14))
        for other in (y, p):
            SessionParticipant.objects.create(session=group, client=other, episode=other.episodes.get())
    with at(2024, 3, 3, 10):
        TherapySessionFactory(client=p)
        TherapySessionFactory(client=q)
    return {"x": x, "y": y, "p": p, "q": q, "on_x": on_x, "on_q": on_q, "group": group}


def test_a_joint_session_stays_with_the_participants_who_remain(joint):
    with at(2026, 1, 1, 10):
        output = retention("--apply")

    x, y, p, q = (joint[k] for k in "xypq")
    assert set(Client.objects.filter(pk__in=[x.pk, y.pk, p.pk, q.pk]).values_list("code", flat=True)) == {
        p.code,
        q.code,
    }
    # Logged on x with p: now logged on p's record (in p's period), with its joint note, and nobody else in it.
    on_x = TherapySession.objects.get(pk=joint["on_x"].pk)
    assert (on_x.client_id, on_x.episode_id) == (p.pk, p.episodes.get().pk)
    assert on_x.note.text == "SENTINEL-gemensam anteckning"
    assert not on_x.participants.exists()
    # Logged on q: stays there; x's place in it is gone.
    assert TherapySession.objects.get(pk=joint["on_q"].pk).client_id == q.pk
    assert not SessionParticipant.objects.filter(session=joint["on_q"]).exists()
    # The group session: moved to y (the first other participant by code), then y expired too; p keeps it.
    group = TherapySession.objects.get(pk=joint["group"].pk)
    assert group.client_id == p.pk
    assert not group.participants.exists()
    assert RemovalRecord.objects.get(code=x.code).joint_sessions_kept == 2
    assert RemovalRecord.objects.get(code=y.code).joint_sessions_kept == 1
    assert "2 joint sessions kept for other participants" in output


def test_a_joint_session_goes_when_every_participant_has_expired(therapist):
    with at(2019, 4, 1, 10):
        x, y = (
            open_first_period(ClientFactory(responsible_therapist=therapist, code=f"GBG-2019-02{n}")) for n in range(2)
        )
        session = TherapySessionFactory(client=x, kind=SessionKind.COUPLE)
        SessionParticipant.objects.create(session=session, client=y, episode=y.episodes.get())
        NoteFactory(session=session)

    with at(2026, 1, 1, 10):
        retention("--apply")

    assert not TherapySession.objects.filter(pk=session.pk).exists()
    assert not Note.objects.filter(session_id=session.pk).exists()


def test_signed_notes_stay_final_outside_retention(clinic_records):
    """The triggers are set aside only inside the removal: afterwards a signed note refuses deletion again."""
    from django.db import IntegrityError, InternalError, transaction

    with at(2026, 1, 1, 10):
        retention("--apply")
    note = Note.objects.filter(signed_at__isnull=False).first()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Note.objects.filter(pk=note.pk).delete()


# Completeness: a table added later that points at a record must be decided about here.

#: Removed by `archive.services._remove` explicitly, before the record (they protect it or what it holds).
REMOVED_EXPLICITLY = {
    "therapy_sessions.SessionParticipant",
    "therapy_sessions.FollowUp",
    "therapy_sessions.Addendum",
    "therapy_sessions.Note",
    "therapy_sessions.TherapySession",
    "assessments.Administration",
    "relatives.RelativeLink",
    "clients.PartAddendum",
    "clients.GoalReview",
    "groups.GroupMember",
}


#: Links to a record that the removal clears and leaves the row standing: an advice contact registered as a client
#: (app `advice`) is an anonymous count of its own, before and after the record (on_delete SET_NULL).
UNLINKED_BY_REMOVAL = {"advice.AdviceContact.converted_to"}


def _record_family() -> set:
    """The models whose rows belong to a record: the client, and what cascades from it or is removed with it."""
    from pghistory.models import Event

    family = {Client}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model in family or issubclass(model, Event):
                continue
            for field in model._meta.concrete_fields:
                if (
                    field.is_relation
                    and field.related_model in family
                    and (field.remote_field.on_delete is CASCADE or model._meta.label in REMOVED_EXPLICITLY)
                ):
                    family.add(model)
                    grew = True
                    break
    return family


def test_every_table_that_points_at_a_record_is_removed_with_it():
    from pghistory.models import Event

    family = _record_family()
    undecided = []
    for model in apps.get_models():
        if model in family or issubclass(model, Event):
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in family:
                if (
                    f"{model._meta.label}.{field.name}" in UNLINKED_BY_REMOVAL
                    and field.remote_field.on_delete is SET_NULL
                ):
                    continue
                undecided.append(f"{model._meta.label}.{field.name}")
    assert undecided == [], "decide what retention does with these (archive.services._remove)"


def test_every_history_table_of_a_record_is_removed_with_it():
    from pghistory.models import Event

    family = _record_family()
    tracked = {m._meta.label for m in apps.get_models() if issubclass(m, Event) and m.pgh_tracked_model in family}
    assert tracked == set(services.HISTORY), "add the history model to archive.services.HISTORY"
    assert Counter(m._meta.label for m in services.event_models())  # pghistory is installed and tracking


# Each kind of entry counts: a record from 2019 with one entry ten minutes into 2021 (Stockholm) is not due in 2026.

JAN_1 = datetime.date(2021, 1, 1)


def _joint_session(record, therapist, **session):
    other = open_first_period(ClientFactory(responsible_therapist=therapist))
    joint_session = TherapySessionFactory(client=other, kind=SessionKind.COUPLE, **session)
    SessionParticipant.objects.create(session=joint_session, client=record, episode=record.episodes.get())
    return joint_session


def _old_session(record):
    with at(2019, 2, 2, 10):
        return TherapySessionFactory(client=record)


def _old_joint_session(record, therapist):
    with at(2019, 2, 2, 10):
        return _joint_session(record, therapist)


def _old_signed_note(session):
    with at(2019, 2, 2, 11):
        return NoteFactory(session=session)


def _group_meeting_attended(record, therapist):
    """A place in a group since 2019, and a meeting of it attended (recorded now, in 2021)."""
    with at(2019, 2, 2, 10):
        programme = GroupProgramme.objects.create(
            clinic=record.clinic, name="Grupp", start_date=datetime.date(2019, 2, 2), created_by=therapist
        )
        member = GroupMember.objects.create(programme=programme, record=record, joined_on=datetime.date(2019, 2, 2))
        meeting = GroupMeeting.objects.create(
            programme=programme, date=datetime.date(2019, 2, 2), start_time=datetime.time(17, 0)
        )
    GroupAttendance.objects.create(meeting=meeting, member=member, presence="attended", recorded_by=therapist)


ENTRIES = {
    "next planned contact": lambda r, t: Client.objects.filter(pk=r.pk).update(next_contact_date=JAN_1),
    "period closed": lambda r, t: Episode.objects.filter(client=r).update(closed_on=JAN_1),
    "status change": lambda r, t: StatusChange.objects.create(
        client=r, episode=r.episodes.get(), from_status="contact", to_status="closed", by=t
    ),
    "assessment conversation": lambda r, t: AssessmentConversationFactory(client=r),
    "deep interview": lambda r, t: DeepInterviewSectionFactory(client=r, updated_by=t),
    "session": lambda r, t: TherapySessionFactory(client=r),
    "session booked ahead": lambda r, t: TherapySessionFactory(client=r, date=JAN_1, attendance="booked"),
    "joint session on another record": lambda r, t: _joint_session(r, t),
    "note saved": lambda r, t: NoteFactory(session=_old_session(r), signed_at=None),
    "note on a joint session": lambda r, t: NoteFactory(session=_old_joint_session(r, t)),
    "addendum": lambda r, t: Addendum.objects.create(note=_old_signed_note(_old_session(r)), author=t, text="x"),
    "addendum on a joint session": lambda r, t: Addendum.objects.create(
        note=_old_signed_note(_old_joint_session(r, t)), author=t, text="x"
    ),
    "questionnaire": lambda r, t: Administration.objects.create(
        client=r,
        episode=r.episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=t,
    ),
    "follow-up due": lambda r, t: FollowUp.objects.create(
        client=r, episode=r.episodes.get(), kind=FollowUpKind.FOLLOW_UP, due_on=JAN_1
    ),
    "reaction review": lambda r, t: ReactionReview.objects.create(
        relative=r, loss_of_control=1, guilt=1, shame=1, displaced_anger=1, recorded_by=t
    ),
    "goal": lambda r, t: Goal.objects.create(relative=r, text="Mål", created_by=t),
    "child perspective": lambda r, t: ChildPerspective.objects.create(record=r, considered_on=JAN_1, updated_by=t),
    "link from a relative": lambda r, t: link(relative_record(t), r),
    "link to a client": lambda r, t: link(r, open_first_period(ClientFactory(responsible_therapist=t))),
    "group meeting": lambda r, t: _group_meeting_attended(r, t),
}


@pytest.mark.parametrize("entry", [None, *ENTRIES])
def test_every_kind_of_entry_counts(therapist, entry):
    with at(2019, 1, 10, 10):
        record = open_first_period(ClientFactory(responsible_therapist=therapist))
    if entry is not None:
        with at(2021, 1, 1, 0, 10):
            ENTRIES[entry](record, therapist)

    due = {d.id for d in records_due(datetime.date(2026, 1, 1))}

    assert (record.pk in due) is (entry is None)


def test_the_demo_clinics_can_be_removed_completely(settings):
    """The seeded demo (every case status, relatives, joint sessions, signed notes, questionnaires): in 2045 all of
    it is due, and retention leaves no row of any record and no history row behind, only the logs."""
    from pghistory.models import Event

    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    records = Client.objects.count()
    assert records > 10

    with at(2045, 1, 2, 10):
        output = retention("--apply")

    assert f"Removed {records} records" in output
    assert RemovalRecord.objects.count() == records
    for model in _record_family() | {
        m for m in apps.get_models() if issubclass(m, Event) and m.pgh_tracked_model in _record_family()
    }:
        assert not model.objects.exists(), model._meta.label


def test_a_removed_record_leaves_its_group_and_the_group_keeps_its_meetings_and_note(therapist):
    with at(2019, 1, 10, 10):
        record = open_first_period(ClientFactory(responsible_therapist=therapist))
        other = ClientFactory(responsible_therapist=therapist)
    _group_meeting_attended(record, therapist)
    programme = GroupProgramme.objects.get()
    meeting = programme.meetings.get()
    stays = GroupMember.objects.create(programme=programme, record=other, joined_on=datetime.date(2019, 2, 2))
    # The other participant's attendance is recorded in 2030: their record is kept.
    GroupAttendance.objects.create(
        meeting=meeting, member=stays, presence="attended", recorded_by=therapist, recorded_at=moment(2030, 5, 5, 10)
    )

    # The attendance was recorded this year (the helper's last entry): due six calendar years later.
    with at(2033, 1, 1, 10):
        retention("--apply")

    assert not Client.objects.filter(pk=record.pk).exists()
    assert list(programme.members.values_list("record", flat=True)) == [other.pk]
    assert list(GroupAttendance.objects.values_list("member", flat=True)) == [stays.pk]
    assert GroupMeeting.objects.filter(pk=meeting.pk).exists()
