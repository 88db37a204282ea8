"""A record's change history ("Historik"): who changed what and when, for the record's therapists only."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from archive import history, services
from clients.models import CaseStatus, Client, InterviewSection
from kast.models import AccessLogEntry, Role
from relatives.models import RelativeLink
from sessions.models import Attendance, TherapySession
from tests.archive.test_right_of_access import flat_text
from tests.factories import TherapySessionFactory, open_first_period, relative_record

pytestmark = pytest.mark.django_db

PHONE = "070-7654321"
SECTION_TEXT = "Uppväxten i Borås med två syskon, en pappa som reste mycket."


def history_url(record) -> str:
    return reverse("archive:history", args=[record.pk])


def page_text(response) -> str:
    """The page's text as read: tags out, entities decoded, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(text))


def save_section(http, record, text: str, *, section: str = "childhood") -> None:
    url = reverse("clients:interview_section", args=[record.pk, section])
    version = re.search(r'name="version" value="(\d+)"', http.get(url).content.decode())
    assert version
    assert http.post(url, {"version": version.group(1), "text": text}).status_code == 302


def change_status(http, record, to_status: str) -> None:
    assert http.post(reverse("clients:transition", args=[record.pk]), {"to_status": to_status}).status_code == 302


def change_phone(http, record, phone: str) -> None:
    record.refresh_from_db()
    url = reverse("clients:identity_edit", args=[record.pk])
    assert http.post(url, {"version": record.version, "phone": phone}).status_code == 302


@pytest.fixture
def worked_on(client, therapist, client_record):
    """A registered client whose therapist, signed in, wrote a section twice, moved the status on and changed the
    phone number: each through its page, as the history's context (who, where) is recorded for requests."""
    therapist.first_name, therapist.last_name = "Anna", "Lindqvist"
    therapist.save(update_fields=["first_name", "last_name"])
    open_first_period(client_record)
    client.force_login(therapist)
    save_section(client, client_record, "Uppväxten i Borås.")
    save_section(client, client_record, SECTION_TEXT)
    change_status(client, client_record, CaseStatus.ASSESSMENT)
    change_phone(client, client_record, PHONE)
    return client_record


def test_the_therapist_sees_who_changed_what_and_when(client, therapist, worked_on):
    response = client.get(history_url(worked_on))

    assert response.status_code == 200
    text = page_text(response)
    status = f"{_('Status')}: {CaseStatus.CONTACT.label} → {CaseStatus.ASSESSMENT.label}"
    assert status in text
    section = f"{_('Deep interview')}: {InterviewSection.CHILDHOOD.label}"
    assert section in text
    # The text as its length, never its words.
    lengths = [_("%(count)s characters") % {"count": n} for n in (len("Uppväxten i Borås."), len(SECTION_TEXT))]
    assert " → ".join(lengths) in text
    assert "Uppväxten" not in text
    assert "Anna Lindqvist" in text
    # Newest first (a test is one transaction, so its changes share one time: the order within a part shows it).
    changes = [(c.part, c.action) for c in response.context["page"].object_list]
    assert changes.index((section, _("Changed"))) < changes.index((section, _("Added")))


def test_reading_the_history_is_logged(client, therapist, worked_on):
    before = AccessLogEntry.objects.count()

    client.get(history_url(worked_on))

    entry = AccessLogEntry.objects.get(pk__gt=AccessLogEntry.objects.order_by("pk")[before - 1].pk)
    assert (entry.user, entry.action, entry.client_id, entry.object_type) == (
        therapist,
        AccessLogEntry.Action.HISTORY,
        worked_on.pk,
        "clients.client",
    )
    assert entry.path == history_url(worked_on)


def test_an_identity_change_is_shown_without_its_value_until_the_identity_is_shown(client, therapist, worked_on):
    reveals = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.REVEAL)
    revealed_before = reveals.count()  # changing the phone showed the identity on its own page

    hidden = page_text(client.get(history_url(worked_on)))

    assert PHONE not in hidden
    assert f"{_('Phone')}: ({_('changed; shown after “Show identity”')})" in hidden
    assert reveals.count() == revealed_before

    shown = client.post(history_url(worked_on))

    assert shown.status_code == 200
    assert f"{_('Phone')}: – → {PHONE}" in page_text(shown)
    # The same logged showing as on the record's page, and the read of the history beside it.
    actions = list(
        AccessLogEntry.objects.filter(user=therapist, client_id=worked_on.pk)
        .order_by("-pk")
        .values_list("action", flat=True)[:2]
    )
    assert actions == [AccessLogEntry.Action.HISTORY, AccessLogEntry.Action.REVEAL]
    # For that page view only: the next read hides the value again.
    assert PHONE not in page_text(client.get(history_url(worked_on)))


def test_a_protected_identity_stays_hidden_from_a_co_therapist(client, colleague, worked_on):
    Client.objects.filter(pk=worked_on.pk).update(protected_identity=True)
    worked_on.co_therapists.add(colleague)
    client.force_login(colleague)

    page = page_text(client.get(history_url(worked_on)))
    refused = client.post(history_url(worked_on))

    assert PHONE not in page
    assert f"{_('Phone')}: ({_('changed; protected identity')})" in page
    assert _("Show identity") not in page
    assert refused.status_code == 302
    assert refused["Location"] == history_url(worked_on)
    assert AccessLogEntry.objects.filter(user=colleague, action="denied", reason="protected_identity").exists()
    assert not AccessLogEntry.objects.filter(user=colleague, action=AccessLogEntry.Action.REVEAL).exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("colleague", 404), ("other_clinic", 404), ("manager", 403), ("admin", 403)],
)
def test_nobody_but_the_records_therapists_reads_it(client, personas, worked_on, persona, status):
    user = personas[persona]
    client.force_login(user)

    response = client.get(history_url(worked_on))

    assert response.status_code == status
    assert SECTION_TEXT not in response.content.decode()
    assert AccessLogEntry.objects.filter(user=user, action="denied", path=history_url(worked_on)).exists()
    assert not AccessLogEntry.objects.filter(user=user, action=AccessLogEntry.Action.HISTORY).exists()


def test_the_record_pages_link_to_the_history(client, therapist, worked_on):
    relative = relative_record(therapist)

    for page in (reverse("clients:detail", args=[worked_on.pk]), reverse("relatives:detail", args=[relative.pk])):
        assert f'href="{history_url(Client.objects.get(pk=page.split("/")[-2]))}"' in client.get(page).content.decode()


def test_a_relatives_history_holds_their_link_and_the_clients_does_not(client, therapist, client_record):
    relative = relative_record(therapist)
    client.force_login(therapist)
    RelativeLink.objects.create(relative=relative, client=client_record, created_by=therapist)
    RelativeLink.objects.filter(relative=relative).update(relative_consents=True)

    of_relative = page_text(client.get(history_url(relative)))
    of_client = page_text(client.get(history_url(client_record)))

    assert _("Link with a client") in of_relative
    assert _("Link with a client") not in of_client


def test_every_history_table_of_a_record_is_read(client_record):
    """The same tables retention removes with a record (archive.services.HISTORY): a new one is read here too."""
    assert set(history.PARTS) == set(services.HISTORY)


def test_the_number_of_queries_does_not_grow_with_the_history(client, therapist, worked_on):
    def queries(page: int = 1) -> list[str]:
        client.get(reverse("clients:list"))  # the saves' messages shown, and gone from the session
        with CaptureQueriesContext(connection) as captured:
            assert client.get(history_url(worked_on), {"page": page}).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    small = queries()
    for n in range(60):
        save_section(client, worked_on, f"Version {n} av texten.", section=InterviewSection.PUBERTY)
    large = queries()
    last_page = queries(page=2)

    assert len(large) == len(small) == len(last_page)
    # The login session, the user, their second-factor device; the gate's read of the record and the log's row;
    # the count of changes and the page of them (one query across every history table).
    assert len(small) == 7, "\n".join(small)
    assert history.RecordHistory(worked_on, reveal=False).count() > history.PAGE_SIZE


def test_the_right_of_access_extract_sums_up_the_history(client, therapist, worked_on):
    text = flat_text(client.post(reverse("archive:right_of_access", args=[worked_on.pk])))

    summary = text.split(_("Changes to the record"))[-1].split(_("Access log"))[0]
    today = timezone.localdate().isoformat()
    who = f"Anna Lindqvist ({Role.THERAPIST.label})"
    # The record: registered (by the test's factory, outside any request), the status and the phone changed.
    assert f"{_('Record details')} 3 {today} {today} {who}, {_('the system')}" in summary
    # The interview section: written, then changed; no word of it.
    assert f"{_('Deep interview')} 2 {today} {today} {who}" in summary
    assert "Borås" not in summary
    assert PHONE not in summary


def test_a_sessions_changes_are_listed_from_its_first_change(client, therapist, worked_on):
    """Sessions keep no copy as booked (their history records updates and deletes): the first change has nothing
    to be compared with; the next ones show what changed."""
    session = TherapySessionFactory(client=worked_on, attendance=Attendance.BOOKED)
    TherapySession.objects.filter(pk=session.pk).update(attendance=Attendance.ATTENDED)
    TherapySession.objects.filter(pk=session.pk).update(fee_paid=True)

    changes = [
        c for c in client.get(history_url(worked_on)).context["page"].object_list if c.part.startswith(_("Session"))
    ]

    assert [c.action for c in changes] == [_("Changed"), _("Changed")]
    assert [(f.label, f.before, f.after) for f in changes[0].fields] == [(_("Fee paid"), _("No"), _("Yes"))]
    assert [(f.label, f.note) for f in changes[1].fields] == [(_("Earlier values"), _("not recorded"))]


def test_a_handover_names_both_therapists(client, therapist, colleague, worked_on):
    colleague.first_name, colleague.last_name = "Bertil", "Berg"
    colleague.save(update_fields=["first_name", "last_name"])
    worked_on.co_therapists.add(therapist)
    Client.objects.filter(pk=worked_on.pk).update(responsible_therapist=colleague)

    text = page_text(client.get(history_url(worked_on)))

    assert f"{_('Responsible therapist')}: Anna Lindqvist → Bertil Berg" in text
