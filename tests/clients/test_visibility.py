"""Who can read what of a client record: the confidential pages, the hidden identity, and search without names in URLs."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

from clients.models import AssessmentConversation, Client
from kast.models import AccessLogEntry
from tests.factories import (
    AssessmentConversationFactory,
    ClientFactory,
    DeepInterviewSectionFactory,
    FamilyMemberFactory,
    FamilyRelationshipFactory,
    open_first_period,
)

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-7f3a-hemligt"
ALIAS, FULL_NAME, PERSONNUMMER = "Nisse", "Nils Gustav Karlsson", "19850709-1232"


@pytest.fixture
def confidential(client_record, therapist):
    """The record with the sentinel in a deep-interview section, the assessment and a family member's note."""
    open_first_period(client_record)
    DeepInterviewSectionFactory(client=client_record, section="vulnerability", text=f"Mobbad i skolan. {SENTINEL}")
    AssessmentConversationFactory(client=client_record, problem=f"Problem: {SENTINEL}", assessment=f"Bedömt {SENTINEL}")
    member = FamilyMemberFactory(client=client_record, label="Morfar", relation="grandparent", notes=SENTINEL)
    client_record.member = member
    return client_record


def pages(record) -> list[tuple[str, str]]:
    """(method, url) of every page that reads the confidential content."""
    return [
        ("get", reverse("clients:detail", args=[record.pk])),
        ("get", reverse("clients:interview", args=[record.pk])),
        ("get", reverse("clients:interview_section", args=[record.pk, "vulnerability"])),
        ("get", reverse("clients:family", args=[record.pk])),
        ("get", reverse("clients:family_member", args=[record.pk, record.member.pk])),
        ("get", reverse("clients:assessment", args=[record.pk])),
        ("get", reverse("clients:edit", args=[record.pk])),
        ("post", reverse("clients:intake_pdf", args=[record.pk])),  # a POST only: a GET is 405 to everyone
    ]


@pytest.mark.parametrize(
    ("persona", "listed", "status"),
    [
        ("colleague", False, 404),
        ("other_clinic", False, 404),
        # A co-therapist row across clinics, or for a role that has no records, opens nothing.
        ("other_clinic", True, 404),
        ("manager", True, 403),
        ("admin", False, 403),
    ],
)
def test_the_record_is_unreadable_to_everyone_not_on_the_case(client, personas, confidential, persona, listed, status):
    user = personas[persona]
    if listed:
        confidential.co_therapists.add(user)
    client.force_login(user)

    for method, url in pages(confidential):
        response = getattr(client, method)(url)
        assert response.status_code == status, url
        assert SENTINEL not in response.content.decode(), url
        assert confidential.code not in response.content.decode(), url

    denied = AccessLogEntry.objects.filter(user=user, action="denied")
    assert sorted(denied.values_list("path", flat=True)) == sorted(url for _, url in pages(confidential))
    assert set(denied.values_list("client_id", flat=True)) == {confidential.pk}
    assert not AccessLogEntry.objects.filter(user=user).exclude(action="denied").exists()


@pytest.mark.parametrize(
    "url_name", ["detail", "interview_section", "family_member", "assessment"], ids=lambda name: name
)
def test_the_therapist_on_the_case_reads_it(client, therapist, confidential, url_name):
    """The other side of the test above: these pages do carry the sentinel, so its absence there means something."""
    kwargs = {
        "detail": {},
        "interview_section": {"section": "vulnerability"},
        "family_member": {"member_id": confidential.member.pk},
        "assessment": {},
    }[url_name]
    client.force_login(therapist)

    response = client.get(reverse(f"clients:{url_name}", kwargs={"client_id": confidential.pk, **kwargs}))

    assert response.status_code == 200
    assert SENTINEL in response.content.decode()


@pytest.mark.parametrize("persona", ["colleague", "other_clinic"])
def test_those_not_on_the_case_cannot_write_either(client, personas, confidential, persona):
    section = confidential.interview_sections.get()
    mother = FamilyMemberFactory(client=confidential, label="Mamma", relation="parent")
    line = FamilyRelationshipFactory(client=confidential, a=confidential.member, b=mother, kind="close")
    client.force_login(personas[persona])
    pk = confidential.pk

    responses = {
        "interview_section": client.post(
            reverse("clients:interview_section", args=[pk, "vulnerability"]),
            {"version": section.version, "text": "Överskrivet"},
        ),
        "assessment": client.post(reverse("clients:assessment", args=[pk]), {"problem": "Överskrivet", "version": 1}),
        "edit": client.post(reverse("clients:edit", args=[pk]), {"occupation": "Överskrivet", "version": 1}),
        "family": client.post(reverse("clients:family", args=[pk]), {"label": "Inkräktare", "relation": "other"}),
        "transition": client.post(reverse("clients:transition", args=[pk]), {"to_status": "assessment"}),
        "reopen": client.post(reverse("clients:reopen", args=[pk])),
        "family_member_delete": client.post(reverse("clients:family_member_delete", args=[pk, mother.pk])),
        "relationship_add": client.post(
            reverse("clients:relationship_add", args=[pk]),
            {"a": mother.pk, "b": confidential.member.pk, "kind": "abuse"},
        ),
        "relationship_delete": client.post(reverse("clients:relationship_delete", args=[pk, line.pk])),
        "reveal_identity": client.post(reverse("clients:reveal_identity", args=[pk])),
    }

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(responses, 404)
    section.refresh_from_db()
    confidential.refresh_from_db()
    assert (section.text, section.version) == (f"Mobbad i skolan. {SENTINEL}", 1)
    assert (confidential.status, confidential.occupation, confidential.version) == ("contact", "", 1)
    assert confidential.episodes.count() == 1
    assert AssessmentConversation.objects.get().problem == f"Problem: {SENTINEL}"
    assert sorted(confidential.family_members.values_list("label", flat=True)) == sorted(
        ["Mamma", "Morfar", confidential.code]
    )
    assert list(confidential.family_relationships.values_list("pk", "kind")) == [(line.pk, "close")]
    assert not AccessLogEntry.objects.exclude(action="denied").exists()


# -- The identity ---------------------------------------------------------------------------------------------


@pytest.fixture
def named(client_record):
    Client.objects.filter(pk=client_record.pk).update(
        alias=ALIAS, full_name=FULL_NAME, personnummer=PERSONNUMMER, phone="0701234567"
    )
    client_record.refresh_from_db()
    return client_record


def shows_identity(response) -> dict[str, bool]:
    content = response.content.decode()
    return {value: value in content for value in (ALIAS, FULL_NAME, PERSONNUMMER, "0701234567")}


HIDDEN = {ALIAS: False, FULL_NAME: False, PERSONNUMMER: False, "0701234567": False}
SHOWN = {ALIAS: True, FULL_NAME: True, PERSONNUMMER: True, "0701234567": True}


def test_no_page_shows_the_identity_until_it_is_asked_for(client, therapist, named):
    open_first_period(named)
    client.force_login(therapist)
    urls = [
        reverse("clients:list"),
        reverse("clients:detail", args=[named.pk]),
        reverse("clients:edit", args=[named.pk]),
        reverse("clients:interview", args=[named.pk]),
        reverse("clients:interview_section", args=[named.pk, "childhood"]),
        reverse("clients:family", args=[named.pk]),
        reverse("clients:assessment", args=[named.pk]),
    ]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert shows_identity(response) == HIDDEN, url

    assert not AccessLogEntry.objects.filter(action="reveal").exists()


def test_revealing_shows_the_identity_and_is_logged(client, therapist, named):
    client.force_login(therapist)

    response = client.post(reverse("clients:reveal_identity", args=[named.pk]))

    assert response.status_code == 200
    assert shows_identity(response) == SHOWN
    entry = AccessLogEntry.objects.get(action="reveal")
    assert (entry.user, entry.client_id, entry.object_type, entry.path) == (
        therapist,
        named.pk,
        "clients.client",
        reverse("clients:reveal_identity", args=[named.pk]),
    )
    # For that page view only: the next visit hides it again.
    assert shows_identity(client.get(reverse("clients:detail", args=[named.pk]))) == HIDDEN


def test_revealing_through_htmx_returns_only_the_identity_card(client, therapist, named):
    client.force_login(therapist)

    response = client.post(reverse("clients:reveal_identity", args=[named.pk]), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="identity"')
    assert shows_identity(response) == SHOWN
    assert AccessLogEntry.objects.filter(action="reveal", client_id=named.pk).count() == 1


def test_a_co_therapist_reveals_an_ordinary_identity(client, colleague, named):
    named.co_therapists.add(colleague)
    client.force_login(colleague)

    response = client.post(reverse("clients:reveal_identity", args=[named.pk]))

    assert shows_identity(response) == SHOWN
    assert AccessLogEntry.objects.filter(action="reveal", user=colleague).count() == 1


def test_a_protected_identity_is_hidden_from_the_co_therapist(client, colleague, named):
    Client.objects.filter(pk=named.pk).update(protected_identity=True)
    named.co_therapists.add(colleague)
    client.force_login(colleague)

    response = client.post(reverse("clients:reveal_identity", args=[named.pk]), follow=True)

    assert response.redirect_chain == [(reverse("clients:detail", args=[named.pk]), 302)]
    assert shows_identity(response) == HIDDEN
    message = _("This client has a protected identity; only the responsible therapist can see it.")
    assert [str(m) for m in response.context["messages"]] == [message]
    assert escape(message) in response.content.decode()
    # Nor through the page that edits the identity.
    edit = client.get(reverse("clients:identity_edit", args=[named.pk]), follow=True)
    assert shows_identity(edit) == HIDDEN
    # Both refusals are in the log as refusals, never as a showing.
    assert not AccessLogEntry.objects.filter(user=colleague, action="reveal").exists()
    denied = AccessLogEntry.objects.filter(user=colleague, action="denied", client_id=named.pk)
    assert list(denied.values_list("reason", flat=True)) == ["protected_identity", "protected_identity"]


def test_a_protected_identity_is_shown_to_the_responsible_therapist(client, therapist, colleague, named):
    Client.objects.filter(pk=named.pk).update(protected_identity=True)
    named.co_therapists.add(colleague)
    client.force_login(therapist)

    response = client.post(reverse("clients:reveal_identity", args=[named.pk]))

    assert response.status_code == 200
    assert shows_identity(response) == SHOWN
    assert AccessLogEntry.objects.filter(action="reveal", user=therapist).count() == 1


# -- Search ---------------------------------------------------------------------------------------------------


def listed_codes(response) -> list[str]:
    return re.findall(r'<a href="/clients/[0-9a-f-]{36}/">([^<]+)</a>', response.content.decode())


def urls_in(response) -> list[str]:
    content = response.content.decode()
    return [
        *re.findall(r'(?:href|action|hx-post|hx-get|src)="([^"]*)"', content),
        *(url for url, _ in getattr(response, "redirect_chain", [])),
        response.request["PATH_INFO"] + "?" + response.request.get("QUERY_STRING", ""),
    ]


@pytest.fixture
def caseload(therapist, named):
    others = [ClientFactory(responsible_therapist=therapist, alias=alias) for alias in ("Kalle", "Olle")]
    return [named, *others]


def test_search_by_alias_finds_the_client_and_keeps_the_alias_out_of_urls(client, therapist, caseload):
    client.force_login(therapist)

    response = client.post(reverse("clients:list"), {"q": "niss"})

    assert response.status_code == 200
    assert listed_codes(response) == [caseload[0].code]
    assert all(ALIAS.lower() not in url.lower() for url in urls_in(response))
    assert all("niss" not in path.lower() for path in AccessLogEntry.objects.values_list("path", flat=True))


def test_search_by_code(client, therapist, caseload):
    client.force_login(therapist)

    response = client.post(reverse("clients:list"), {"q": caseload[2].code})

    assert listed_codes(response) == [caseload[2].code]


def test_an_empty_search_shows_the_caseload_and_the_field_is_not_required(client, therapist, caseload):
    client.force_login(therapist)

    response = client.post(reverse("clients:list"), {"q": ""})

    assert response.status_code == 200
    assert not response.context["search"].errors
    assert not response.context["search"].fields["q"].required
    assert sorted(listed_codes(response)) == sorted(c.code for c in caseload if c.responsible_therapist == therapist)


def test_a_search_in_the_url_is_ignored(client, therapist, caseload):
    client.force_login(therapist)

    response = client.get(reverse("clients:list"), {"q": ALIAS})

    assert response.status_code == 200
    assert sorted(listed_codes(response)) == sorted(c.code for c in caseload)
    assert 'value="Nisse"' not in response.content.decode()


def test_a_protected_alias_is_searchable_only_by_the_responsible_therapist(client, therapist, colleague, caseload):
    named = caseload[0]
    Client.objects.filter(pk=named.pk).update(protected_identity=True)
    named.co_therapists.add(colleague)

    client.force_login(colleague)
    by_colleague = client.post(reverse("clients:list"), {"q": ALIAS})
    by_code = client.post(reverse("clients:list"), {"q": named.code})
    client.force_login(therapist)
    by_therapist = client.post(reverse("clients:list"), {"q": ALIAS})

    assert (listed_codes(by_colleague), listed_codes(by_code), listed_codes(by_therapist)) == (
        [],
        [named.code],
        [named.code],
    )


def test_search_does_not_reach_other_therapists_clients(client, colleague, caseload):
    client.force_login(colleague)

    response = client.post(reverse("clients:list"), {"q": ALIAS})

    assert listed_codes(response) == []
