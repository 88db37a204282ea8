"""Every URL, requested as every persona, answers with the status the role table promises.

Columns: anonymous, the responsible therapist (own record), a colleague in the same clinic
who is not on the case, a therapist of another clinic, the unit manager, the administrator.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import get_resolver, reverse

from advice.models import AdviceContact, AdviceTopic
from assessments.models import Administration, TimePoint
from assessments.services import version_for
from clients.models import Client, FamilyMember, FamilyRelationship, TreatmentGoal
from groups.models import GroupMeeting, GroupMember, GroupProgramme
from kast.access import url_view_names
from kast.models import AccessLogEntry
from outreach.models import Activity
from relatives.models import Goal
from sessions.services import calendar_feed_renew
from tests.factories import TherapySessionFactory, link, open_first_period, relative_record

PERSONAS = ["anonymous", "therapist", "colleague", "other_clinic", "manager", "admin"]

LOGIN = "login"  # a 302 to the login page

#: The statuses of a page of one client record: the record is the responsible therapist's; to a colleague not on
#: the case and to another clinic it does not exist (404, never a hint that it does); managers and administrators
#: see no client records at all (403 from the role table).
RECORD_PAGE = [LOGIN, 200, 404, 404, 403, 403]
#: A POST-only view of a record answers a GET with 405 to every therapist, before any record is looked up, so it
#: tells nobody whether the record exists (their POSTs get 404: tests/clients/test_visibility.py).
RECORD_ACTION = [LOGIN, 405, 405, 405, 403, 403]

# url name, which URL kwargs it takes (a key of KWARGS), expected status per persona (in PERSONAS order)
MATRIX = [
    ("home", None, [LOGIN, 200, 200, 200, 200, 200]),
    ("healthz", None, [200, 200, 200, 200, 200, 200]),
    # The idle warning's "continue": 204 while signed in, the login page after the sign-out.
    ("still_signed_in", None, [LOGIN, 204, 204, 204, 204, 204]),
    # A signed-in user asking for the login page is sent on to the start page.
    ("login", None, [200, 302, 302, 302, 302, 302]),
    # Logging out is POST only; a GET is refused as a method, not as a role.
    ("logout", None, [LOGIN, 405, 405, 405, 405, 405]),
    # Two factors (every persona here has passed both: a password-only session in tests/kast/test_two_factor.py).
    # Setting up an authenticator when one is set up already leads on to "set up" (302); the QR code exists only
    # while a key is being set up (404).
    ("two_factor:setup", None, [LOGIN, 302, 302, 302, 302, 302]),
    ("two_factor:qr", None, [LOGIN, 404, 404, 404, 404, 404]),
    ("two_factor:setup_complete", None, [LOGIN, 200, 200, 200, 200, 200]),
    ("two_factor:backup_tokens", None, [LOGIN, 200, 200, 200, 200, 200]),
    ("password_change", None, [LOGIN, 200, 200, 200, 200, 200]),
    ("password_change_done", None, [LOGIN, 200, 200, 200, 200, 200]),
    # A reset link (here a spent one) is public: its token is the key; signed in, the page asks to log out first.
    ("password_reset_confirm", "reset_link", [200, 200, 200, 200, 200, 200]),
    ("password_reset_complete", None, [200, 200, 200, 200, 200, 200]),
    # set_language on GET only redirects back.
    ("set_language", None, [302, 302, 302, 302, 302, 302]),
    ("advice:list", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("advice:new", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("advice:convert", "advice_contact", RECORD_ACTION),
    ("clients:list", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("clients:register", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("clients:emergency", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("clients:detail", "client", RECORD_PAGE),
    ("clients:edit", "client", RECORD_PAGE),
    ("clients:identity_edit", "client", RECORD_PAGE),
    ("clients:assessment", "client", RECORD_PAGE),
    ("clients:interview", "client", RECORD_PAGE),
    ("clients:interview_section", "section", RECORD_PAGE),
    ("clients:family", "client", RECORD_PAGE),
    ("clients:family_member", "member", RECORD_PAGE),
    # A PDF is made (and its print logged) on a POST only: a link from elsewhere cannot print under a user's name.
    # The client's goals: the record's therapists write and follow them up.
    ("clients:goal_add", "client", RECORD_PAGE),
    ("clients:goal_edit", "treatment_goal", RECORD_PAGE),
    ("clients:goal_delete", "treatment_goal", RECORD_ACTION),
    ("clients:goal_review", "goal_session", RECORD_ACTION),
    ("clients:intake_pdf", "client", RECORD_ACTION),
    # Background saves of long texts (js/autosave.js): POST only, so a GET is 405 before any record is looked up.
    ("clients:assessment_autosave", "client", RECORD_ACTION),
    ("clients:interview_section_autosave", "section", RECORD_ACTION),
    ("clients:reveal_identity", "client", RECORD_ACTION),
    ("clients:transition", "client", RECORD_ACTION),
    ("clients:reopen", "client", RECORD_ACTION),
    ("clients:family_member_delete", "member", RECORD_ACTION),
    ("clients:family_member_error", "member", RECORD_ACTION),
    ("clients:relationship_error", "relationship", RECORD_ACTION),
    ("clients:assessment_sign", "client", RECORD_ACTION),
    ("clients:assessment_addendum", "client", RECORD_ACTION),
    ("clients:interview_section_sign", "section", RECORD_ACTION),
    ("clients:interview_section_addendum", "section", RECORD_ACTION),
    ("clients:relationship_add", "client", RECORD_ACTION),
    ("clients:relationship_delete", "relationship", RECORD_ACTION),
    ("sessions:timeline", "client", RECORD_PAGE),
    ("sessions:new", "client", RECORD_PAGE),
    # Only a treatment in progress can be ended: for this new contact the page sends the therapist back.
    ("sessions:end_treatment", "client", [LOGIN, 302, 404, 404, 403, 403]),
    ("sessions:quick_log", None, [LOGIN, 405, 405, 405, 403, 403]),
    ("sessions:detail", "session", RECORD_PAGE),
    ("sessions:void", "session", RECORD_PAGE),
    ("sessions:autosave", "session", RECORD_ACTION),
    ("sessions:addendum", "session", RECORD_ACTION),
    ("sessions:addendum_autosave", "session", RECORD_ACTION),
    ("sessions:payment", "session", RECORD_ACTION),
    ("sessions:book_next", "session", RECORD_ACTION),
    ("sessions:bookings", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("sessions:calendar", None, [LOGIN, 200, 200, 200, 403, 403]),
    # No login: the secret address is the key (of the responsible therapist here), whoever holds it.
    ("sessions:calendar_feed", "token", [200, 200, 200, 200, 200, 200]),
    ("relatives:register", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("relatives:register_for", "client", RECORD_PAGE),
    ("relatives:detail", "relative", RECORD_PAGE),
    ("relatives:edit", "relative", RECORD_PAGE),
    ("relatives:children", "record", RECORD_PAGE),
    ("archive:history", "record", RECORD_PAGE),
    ("relatives:children_autosave", "record", RECORD_ACTION),
    ("archive:right_of_access", "record", RECORD_ACTION),
    ("relatives:link", "relative", RECORD_ACTION),
    ("relatives:reactions", "relative", RECORD_ACTION),
    ("relatives:goal_add", "relative", RECORD_ACTION),
    ("relatives:summary_pdf", "relative", RECORD_ACTION),
    ("relatives:consents", "link", RECORD_ACTION),
    ("relatives:unlink", "link", RECORD_ACTION),
    ("relatives:goal_status", "goal", RECORD_ACTION),
    ("assessments:client", "client", RECORD_PAGE),
    ("assessments:over_time", "client", RECORD_PAGE),
    ("assessments:start", "client", RECORD_ACTION),
    ("assessments:fill", "administration", RECORD_PAGE),
    ("assessments:fill_autosave", "administration", RECORD_ACTION),
    ("assessments:tablet_code", "administration", RECORD_ACTION),
    # The page asks for the reason (GET); the marking is a POST (tests/assessments/test_entered_in_error.py).
    ("assessments:mark_in_error", "administration", RECORD_PAGE),
    # The tablet pages are public: without a valid code in the session the form sends the device to the code page.
    ("assessments:tablet", None, [200, 200, 200, 200, 200, 200]),
    ("assessments:tablet_form", None, [302, 302, 302, 302, 302, 302]),
    ("assessments:tablet_done", None, [200, 200, 200, 200, 200, 200]),
    # Figures, not records: every therapist and the manager see their own clinic's counts (national follow-up too,
    # tests/figures/test_reports.py). The research file is the researcher role's alone, none of these
    # (tests/figures/test_research_file.py).
    ("figures:reports", None, [LOGIN, 200, 200, 200, 200, 403]),
    ("figures:research_export", None, [LOGIN, 403, 403, 403, 403, 403]),
    # The dashboard: a therapist sees their own caseload, the manager the clinic; national follow-up in
    # tests/figures/test_dashboard.py.
    ("figures:dashboard", None, [LOGIN, 200, 200, 200, 200, 403]),
    ("figures:dashboard_csv", "dashboard_table", [LOGIN, 200, 200, 200, 200, 403]),
    # The yearly report PDF leaves the clinic: the unit manager's (and national follow-up's,
    # tests/figures/test_year_report.py), never a therapist's; made on a POST only (a GET is 405).
    ("figures:dashboard_year_pdf", "year", [LOGIN, 403, 403, 403, 405, 403]),
    # The clinic's outreach and attitude work (no client data): its therapists and unit manager; another clinic's
    # activity does not exist to them (404); national follow-up is refused in tests/outreach/test_outreach.py.
    ("outreach:list", None, [LOGIN, 200, 200, 200, 200, 403]),
    ("outreach:new", None, [LOGIN, 200, 200, 200, 200, 403]),
    ("outreach:edit", "activity", [LOGIN, 200, 200, 404, 200, 403]),
    # Group programmes: the clinic's therapists (another clinic's programme does not exist to them: 404); managers
    # and administrators have no roster and no note (403; counts on the figures). POST-only views answer a GET 405.
    ("groups:list", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("groups:new", None, [LOGIN, 200, 200, 200, 403, 403]),
    ("groups:detail", "programme", [LOGIN, 200, 200, 404, 403, 403]),
    ("groups:member_add", "programme", RECORD_ACTION),
    ("groups:member_leave", "group_member", RECORD_ACTION),
    ("groups:meeting_new", "programme", [LOGIN, 200, 200, 404, 403, 403]),
    ("groups:meeting", "group_meeting", [LOGIN, 200, 200, 404, 403, 403]),
    ("groups:attendance", "group_meeting", RECORD_ACTION),
    ("groups:note", "group_meeting", RECORD_ACTION),
    ("groups:sign", "group_meeting", RECORD_ACTION),
    ("groups:addendum", "group_meeting", RECORD_ACTION),
    ("access_log", None, [LOGIN, 403, 403, 403, 200, 200]),
    ("audit:queue", None, [LOGIN, 403, 403, 403, 200, 200]),
    ("audit:review", "log_entry", [LOGIN, 403, 403, 403, 405, 405]),
    ("admin:index", None, [LOGIN, 403, 403, 403, 403, 200]),
    ("admin:kast_user_changelist", None, [LOGIN, 403, 403, 403, 403, 200]),
    # Starting a password reset: the administrator's (GET: the page that asks to confirm).
    ("admin:kast_user_reset", "staff", [LOGIN, 403, 403, 403, 403, 200]),
    ("admin:kast_clinic_changelist", None, [LOGIN, 403, 403, 403, 403, 200]),
    ("admin:archive_retentionhold_changelist", None, [LOGIN, 403, 403, 403, 403, 200]),
    ("admin:archive_removalrecord_changelist", None, [LOGIN, 403, 403, 403, 403, 200]),
]


def _family(record) -> tuple[FamilyMember, FamilyRelationship]:
    mother = FamilyMember.objects.create(client=record, label="Mamma", relation="parent")
    father = FamilyMember.objects.create(client=record, label="Pappa", relation="parent")
    return mother, FamilyRelationship.objects.create(client=record, a=father, b=mother, kind="married")


def _administration(record) -> Administration:
    open_first_period(record)
    return Administration.objects.create(
        client=record,
        episode=record.episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=record.responsible_therapist,
    )


def _goal(record) -> Goal:
    relative = relative_record(record.responsible_therapist)
    return Goal.objects.create(relative=relative, text="Sova bättre", created_by=record.responsible_therapist)


def _treatment_goal(record) -> TreatmentGoal:
    if not record.episodes.exists():
        open_first_period(record)
    return TreatmentGoal.objects.create(
        client=record, episode=record.episodes.get(), wording="Må bättre", created_by=record.responsible_therapist
    )


def _activity(record) -> Activity:
    return Activity.objects.create(
        clinic=record.clinic,
        kind="information",
        date=datetime.date(2026, 1, 15),
        hours=2,
        audience_kind="public",
        audience_size=30,
        created_by=record.responsible_therapist,
    )


def _advice_contact(record):
    topic = AdviceTopic.objects.create(clinic=record.clinic, name="Frågor")
    return AdviceContact.objects.create(
        clinic=record.clinic,
        logged_by=record.responsible_therapist,
        channel="phone",
        who="self",
        target_group="buying_sex",
        topic=topic,
        outcome="advice",
    )


def _programme(record) -> GroupProgramme:
    programme = GroupProgramme.objects.create(
        clinic=record.clinic,
        name="Gruppsamtal för par",
        start_date=datetime.date(2026, 1, 15),
        created_by=record.responsible_therapist,
    )
    programme.leaders.set([record.responsible_therapist])
    return programme


def _group_member(record) -> GroupMember:
    return GroupMember.objects.create(programme=_programme(record), record=record, joined_on=datetime.date(2026, 1, 15))


def _group_meeting(record) -> GroupMeeting:
    return GroupMeeting.objects.create(
        programme=_programme(record), date=datetime.date(2026, 1, 20), start_time=datetime.time(17, 0)
    )


#: How to build each URL's kwargs from `client_record` (sample rows of the record are made when needed).
KWARGS = {
    None: lambda record: None,
    "client": lambda record: {"client_id": record.pk},
    "section": lambda record: {"client_id": record.pk, "section": "childhood"},
    "member": lambda record: {"client_id": record.pk, "member_id": _family(record)[0].pk},
    "relationship": lambda record: {"client_id": record.pk, "relationship_id": _family(record)[1].pk},
    "session": lambda record: {"session_id": TherapySessionFactory(client=open_first_period(record)).pk},
    "token": lambda record: {"token": calendar_feed_renew(user=record.responsible_therapist)},
    "administration": lambda record: {"administration_id": _administration(record).pk},
    "relative": lambda record: {"record_id": relative_record(record.responsible_therapist).pk},
    "record": lambda record: {"record_id": record.pk},
    "link": lambda record: {"link_id": link(relative_record(record.responsible_therapist), record).pk},
    "goal": lambda record: {"goal_id": _goal(record).pk},
    "treatment_goal": lambda record: {"client_id": record.pk, "goal_id": _treatment_goal(record).pk},
    "goal_session": lambda record: {
        "client_id": record.pk,
        "session_id": TherapySessionFactory(client=open_first_period(record)).pk,
    },
    "log_entry": lambda record: {
        "entry_id": AccessLogEntry.objects.create(
            user=record.responsible_therapist, role="therapist", clinic=record.clinic, action="print"
        ).pk
    },
    "activity": lambda record: {"activity_id": _activity(record).pk},
    "advice_contact": lambda record: {"contact_id": _advice_contact(record).pk},
    "programme": lambda record: {"programme_id": _programme(record).pk},
    "group_member": lambda record: {"member_id": _group_member(record).pk},
    "group_meeting": lambda record: {"meeting_id": _group_meeting(record).pk},
    "dashboard_table": lambda record: {"table": "attendance"},
    "year": lambda record: {"year": 2026},
    "staff": lambda record: {"object_id": record.responsible_therapist.pk},
    "reset_link": lambda record: {"uidb64": "MQ", "token": "spent-token"},
}

CASES = [
    pytest.param(name, kwargs, persona, expected, id=f"{name}-{persona}")
    for name, kwargs, statuses in MATRIX
    for persona, expected in zip(PERSONAS, statuses, strict=True)
]


@pytest.mark.parametrize(("url_name", "kwargs", "persona", "expected"), CASES)
def test_role_matrix(client, personas, client_record, url_name, kwargs, persona, expected):
    user = personas[persona]
    if user is not None:
        client.force_login(user)
    url = reverse(url_name, kwargs=KWARGS[kwargs](client_record))

    response = client.get(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
        return
    assert response.status_code == expected
    if expected == 403:
        assert AccessLogEntry.objects.filter(user=user, action=AccessLogEntry.Action.DENIED, path=url).exists()
    # An outreach activity and a group programme are no client record (a programme's 404 is its own gate's).
    if expected == 404 and kwargs not in (None, "activity", "programme", "group_meeting"):
        # A record's page: logged with the record asked for: the client's, or (relatives' pages) the relative's of the same therapist.
        records = Client.objects.filter(responsible_therapist=client_record.responsible_therapist)
        assert AccessLogEntry.objects.filter(
            user=user, action=AccessLogEntry.Action.DENIED, path=url, client_id__in=records.values("pk")
        ).exists()


def test_matrix_covers_every_url_outside_the_admin_site():
    named = {name for name, _ in url_view_names(get_resolver().url_patterns) if not name.startswith("admin:")}
    in_matrix = {name for name, _, _ in MATRIX}
    assert named - in_matrix == set(), "add the new URL to MATRIX with its expected status per persona"


def test_every_admin_site_url_is_for_administrators_only():
    from kast.access import ADMINS, rule_for_name

    admin_names = [name for name, _ in url_view_names(get_resolver().url_patterns) if name.startswith("admin:")]
    assert len(admin_names) > 10
    assert {rule_for_name(name) for name in admin_names} == {ADMINS}
