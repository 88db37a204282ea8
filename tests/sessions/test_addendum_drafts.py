"""An addendum being written is saved in the background as its author's draft (AddendumDraft), and the draft goes
when the addendum is added: addenda themselves are final from the moment they are added."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from kast.models import TEXT_MAX_LENGTH, AccessLogEntry
from sessions.models import Addendum, AddendumDraft

pytestmark = pytest.mark.django_db


def url(note):
    return reverse("sessions:addendum_autosave", args=[note.session_id])


def test_the_draft_autosaves_comes_back_on_the_page_and_goes_when_the_addendum_is_added(client, therapist, signed_note):
    client.force_login(therapist)

    first = client.post(url(signed_note), {"text": "Rättelse: 45", "version": "0"})
    second = client.post(url(signed_note), {"text": "Rättelse: 45 minuter, inte 60.", "version": "1"})
    page = client.get(reverse("sessions:detail", args=[signed_note.session_id]))

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert page.context["addendum_form"].initial["text"] == "Rättelse: 45 minuter, inte 60."
    assert 'name="version" value="2"' in page.content.decode()
    assert not Addendum.objects.exists()  # a draft is not an addendum: nothing final yet
    logged = AccessLogEntry.objects.filter(user=therapist, path=url(signed_note))
    assert (
        list(logged.values_list("action", "object_type", "client_id"))
        == [("update", "therapy_sessions.addendumdraft", signed_note.session.client_id)] * 2
    )

    added = client.post(reverse("sessions:addendum", args=[signed_note.session_id]), {"text": "Rättelse: 45 minuter."})

    assert added.status_code == 302
    assert list(Addendum.objects.values_list("text", flat=True)) == ["Rättelse: 45 minuter."]
    # Emptied, its version moved on (not deleted: see the next tests), and the next addendum starts from it.
    assert AddendumDraft.objects.values_list("text", "version").get() == ("", 3)
    page = client.get(reverse("sessions:detail", args=[signed_note.session_id]))
    assert page.context["addendum_form"].initial["text"] == ""
    assert 'name="version" value="3"' in page.content.decode()
    assert _("The draft saves itself while you write.") in page.content.decode()  # no "last saved" for it
    nxt = client.post(url(signed_note), {"text": "Ett andra tillägg.", "version": "3"})
    assert (nxt.status_code, AddendumDraft.objects.get().text) == (200, "Ett andra tillägg.")


def test_a_stale_addendum_draft_is_refused_with_the_saved_text(client, therapist, signed_note):
    client.force_login(therapist)
    client.post(url(signed_note), {"text": "Flik A.", "version": "0"})

    refused = client.post(url(signed_note), {"text": "Flik B.", "version": "0"})

    assert refused.status_code == 409
    assert (refused.json()["version"], refused.json()["texts"]) == (1, [{"label": _("Addendum"), "text": "Flik A."}])
    assert AddendumDraft.objects.get().text == "Flik A."


def test_a_draft_of_an_addendum_added_meanwhile_in_another_tab_is_a_conflict(client, therapist, signed_note):
    client.force_login(therapist)
    client.post(url(signed_note), {"text": "Skrivet i flik A.", "version": "0"})
    client.post(reverse("sessions:addendum", args=[signed_note.session_id]), {"text": "Skrivet i flik A."})

    stale = client.post(url(signed_note), {"text": "Skrivet i flik A. Och mer i flik B.", "version": "1"})

    assert stale.status_code == 409
    assert stale.json()["texts"] == [{"label": _("Addendum"), "text": ""}]
    assert AddendumDraft.objects.get().text == ""
    # "Keep mine" saves the tab's text as a new draft, next to the addendum now added.
    kept = client.post(url(signed_note), {"text": "Och mer i flik B.", "version": stale.json()["version"]})
    assert (kept.status_code, AddendumDraft.objects.get().text) == (200, "Och mer i flik B.")


def test_a_first_save_that_arrives_after_the_addendum_is_added_does_not_bring_its_text_back(
    client, therapist, signed_note
):
    """The page's first autosave (version 0) sent just before "Add", reaching the server after the adding: without
    a draft left behind its version 0 would start the added text again as a draft, offered on the next visit."""
    client.force_login(therapist)
    client.post(reverse("sessions:addendum", args=[signed_note.session_id]), {"text": "Rättelse: 45 minuter."})

    late = client.post(url(signed_note), {"text": "Rättelse: 45 minuter.", "version": "0"})

    assert late.status_code == 409
    assert AddendumDraft.objects.values_list("text", "version").get() == ("", 1)
    page = client.get(reverse("sessions:detail", args=[signed_note.session_id]))
    assert page.context["addendum_form"].initial["text"] == ""


def test_an_over_long_addendum_draft_is_400_with_the_fields_message(client, therapist, signed_note):
    client.force_login(therapist)

    response = client.post(url(signed_note), {"text": "a" * (TEXT_MAX_LENGTH + 1), "version": "0"})

    assert response.status_code == 400
    assert response.json()["error"].startswith(_("Addendum"))
    assert not AddendumDraft.objects.exists()


def test_no_addendum_draft_on_a_draft_note(client, therapist, draft):
    client.force_login(therapist)

    response = client.post(url(draft), {"text": "Tillägg till ett utkast.", "version": "0"})

    assert response.status_code == 403
    assert response.json() == {"error": _("A draft is changed directly; an addendum follows a signed note.")}
    assert not AddendumDraft.objects.exists()


def test_a_co_therapist_who_is_not_the_author_cannot_draft_an_addendum(client, colleague, case, signed_note):
    case.co_therapists.add(colleague)
    client.force_login(colleague)

    response = client.post(url(signed_note), {"text": "Bertils tillägg.", "version": "0"})

    assert response.status_code == 403
    assert response.json() == {"error": _("Only the author adds to the note.")}
    assert not AddendumDraft.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("colleague", 404), ("other_clinic", 404), ("manager", 403)])
def test_others_cannot_draft_an_addendum(client, personas, signed_note, persona, status):
    client.force_login(personas[persona])

    response = client.post(url(signed_note), {"text": "Någon annans.", "version": "0"})

    assert response.status_code == status
    assert not AddendumDraft.objects.exists()


def test_nobody_else_sees_the_authors_draft(client, colleague, case, signed_note, therapist):
    AddendumDraft.objects.create(note=signed_note, author=therapist, text="Bara min.")
    case.co_therapists.add(colleague)
    client.force_login(colleague)

    page = client.get(reverse("sessions:detail", args=[signed_note.session_id]))

    assert page.status_code == 200
    assert "Bara min." not in page.content.decode()
