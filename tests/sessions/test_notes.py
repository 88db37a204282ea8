"""Writing, signing, correcting, autosaving and voiding notes, and the session facts they rest on."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction
from django.forms import CheckboxInput
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kast.actor import Actor
from kast.db_roles import owner_connection
from kast.models import AccessLogEntry
from sessions.models import Addendum, Attendance, Note, NoteTheme, SessionFee, Theme, TherapySession
from sessions.services import note_save
from tests.factories import TherapySessionFactory, working_day

pytestmark = pytest.mark.django_db

SIGNED_ERROR = "The note is signed and can no longer change. Write an addendum instead."


def document(session, *, text, note_version, themes=(), button="save", **session_overrides) -> dict:
    """The note page's one form as a browser posts it: the session's facts and the note."""
    data = {
        "session-date": session.date.isoformat(),
        "session-start_time": session.start_time.strftime("%H:%M"),
        "session-duration_minutes": str(session.duration_minutes),
        "session-kind": session.kind,
        "session-attendance": session.attendance,
        "session-therapists": [str(t.pk) for t in session.therapists.all()],
        "session-fee_charged": str(session.fee_charged),
        "session-version": str(session.version),
        "note-text": text,
        "note-themes": [str(t.pk) for t in themes],
        "note-version": str(note_version),
        button: "",
    }
    data.update({f"session-{name}": value for name, value in session_overrides.items()})
    return data


def template_names(response) -> list[str]:
    return [t.name for t in response.templates]


def themes_of(session, count=2) -> list[Theme]:
    return list(Theme.objects.filter(clinic=session.clinic).order_by("position")[:count])


def detail_url(session) -> str:
    return reverse("sessions:detail", args=[session.pk])


def autosave_url(session) -> str:
    return reverse("sessions:autosave", args=[session.pk])


def fresh(note: Note) -> Note:
    return Note.objects.get(pk=note.pk)


# -- Writing and signing on the note page ----------------------------------------------------------------------


def test_saving_the_draft_stores_the_note_with_its_author_and_themes(client, therapist, held_session):
    themes = themes_of(held_session)
    client.force_login(therapist)

    response = client.post(
        detail_url(held_session),
        document(held_session, text="Klienten berättade om veckan.", note_version=0, themes=themes),
    )

    assert response.status_code == 302
    assert response.url == detail_url(held_session)
    note = Note.objects.get(session=held_session)
    assert (note.author, note.text, note.version, note.signed_at) == (
        therapist,
        "Klienten berättade om veckan.",
        1,
        None,
    )
    assert set(note.themes.all()) == set(themes)


def test_signing_sets_signed_at_and_the_page_then_shows_the_text_read_only(client, therapist, held_session):
    client.force_login(therapist)
    before = timezone.now()

    response = client.post(
        detail_url(held_session),
        document(held_session, text="Signeras direkt.\nAndra raden.", note_version=0, button="sign"),
    )

    assert response.status_code == 302
    note = Note.objects.get(session=held_session)
    assert note.text == "Signeras direkt.\nAndra raden."
    assert note.signed_at is not None
    assert before <= note.signed_at <= timezone.now()
    assert AccessLogEntry.objects.filter(action="update", object_id=str(note.pk), reason="signed").count() == 1

    page = client.get(detail_url(held_session))

    assert page.status_code == 200
    assert "sessions/session_signed.html" in template_names(page)
    assert "sessions/session_detail.html" not in template_names(page)
    assert "note_form" not in page.context
    body = page.content.decode()
    assert "Signeras direkt.\nAndra raden." in body
    assert 'name="note-text"' not in body
    assert 'id="note-form"' not in body
    assert f'action="{reverse("sessions:addendum", args=[held_session.pk])}"' in body


def test_signing_an_empty_note_is_refused_and_nothing_is_saved(client, therapist, held_session):
    client.force_login(therapist)

    response = client.post(
        detail_url(held_session), document(held_session, text="   ", note_version=0, button="sign", duration_minutes=90)
    )

    assert response.status_code == 200
    assert response.context["note_form"].errors == {"text": [_("Write the note before signing it.")]}
    assert not Note.objects.filter(session=held_session).exists()
    stored = TherapySession.objects.get(pk=held_session.pk)
    assert (stored.duration_minutes, stored.version) == (60, 1)


def test_signing_while_the_session_is_still_booked_is_refused_and_nothing_is_half_saved(client, therapist, draft):
    session = draft.session
    client.force_login(therapist)

    response = client.post(
        detail_url(session),
        document(
            session,
            text="Ny text som inte får sparas.",
            note_version=draft.version,
            button="sign",
            attendance=Attendance.BOOKED,
            duration_minutes="45",
        ),
    )

    assert response.status_code == 200
    assert response.context["session_form"].errors == {
        "attendance": [_("Say whether the session was held before signing the note.")]
    }
    stored_session = TherapySession.objects.get(pk=session.pk)
    assert (stored_session.attendance, stored_session.duration_minutes, stored_session.version) == (
        Attendance.ATTENDED,
        60,
        1,
    )
    stored = fresh(draft)
    assert (stored.text, stored.version, stored.signed_at) == ("Utkast: klienten beskrev veckan.", 1, None)


# -- A signed note cannot change, by any route ------------------------------------------------------------------


def test_a_crafted_post_to_the_page_of_a_signed_note_changes_nothing(client, therapist, signed_note):
    session = signed_note.session
    client.force_login(therapist)

    response = client.post(
        detail_url(session),
        document(
            session, text="Ändrad i efterhand.", note_version=signed_note.version, button="sign", duration_minutes=30
        ),
    )

    assert response.status_code == 200
    assert "sessions/session_signed.html" in template_names(response)
    stored = fresh(signed_note)
    assert (stored.text, stored.version, stored.signed_at) == (
        "Signerad anteckning om samtalet.",
        1,
        signed_note.signed_at,
    )
    assert TherapySession.objects.get(pk=session.pk).duration_minutes == 60


def test_autosave_of_a_signed_note_is_refused(client, therapist, signed_note):
    client.force_login(therapist)

    response = client.post(
        autosave_url(signed_note.session), {"note-text": "Ändrad via autosparning.", "note-version": "1"}
    )

    assert response.status_code == 403
    assert response.json() == {"error": _(SIGNED_ERROR)}
    stored = fresh(signed_note)
    assert (stored.text, stored.version) == ("Signerad anteckning om samtalet.", 1)


def test_the_service_refuses_to_save_a_signed_note(therapist, signed_note):
    actor = Actor.for_user(therapist)
    session = TherapySession.objects.get(pk=signed_note.session_id)

    with pytest.raises(ValidationError) as refused:
        note_save(actor=actor, session=session, version=signed_note.version, text="Ändrad i skalet.")

    assert refused.value.messages == [_(SIGNED_ERROR)]
    assert fresh(signed_note).text == "Signerad anteckning om samtalet."


def refused_by_trigger(table: str):
    """pgtrigger's Protect: one message for UPDATE and DELETE."""
    return pytest.raises(InternalError, match=f"Cannot update or delete rows from {table} table")


def test_the_database_refuses_an_orm_update_or_delete_of_a_signed_note(signed_note):
    with refused_by_trigger("therapy_sessions_note"), transaction.atomic():
        Note.objects.filter(pk=signed_note.pk).update(text="Ändrad med ORM.")
    with refused_by_trigger("therapy_sessions_note"), transaction.atomic():
        Note.objects.filter(pk=signed_note.pk).delete()

    stored = fresh(signed_note)
    assert (stored.text, stored.signed_at) == ("Signerad anteckning om samtalet.", signed_note.signed_at)


def test_the_database_refuses_raw_sql_update_and_delete_of_a_signed_note(signed_note):
    table = Note._meta.db_table
    with refused_by_trigger("therapy_sessions_note"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET text = %s, signed_at = NULL WHERE id = %s", ["Rå SQL.", signed_note.pk])
    with refused_by_trigger("therapy_sessions_note"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [signed_note.pk])

    stored = fresh(signed_note)
    assert (stored.text, stored.signed_at) == ("Signerad anteckning om samtalet.", signed_note.signed_at)


def test_a_draft_can_still_be_changed_in_the_database(draft):
    """The trigger's other side: it only guards signed notes, so the refusals above are about signing."""
    Note.objects.filter(pk=draft.pk).update(text="Ändrat utkast.")

    assert fresh(draft).text == "Ändrat utkast."


def test_the_themes_of_a_signed_note_cannot_be_added_or_removed(draft):
    first, second = themes_of(draft.session)
    NoteTheme.objects.create(note=draft, theme=first)
    Note.objects.filter(pk=draft.pk).update(signed_at=timezone.now())
    note = fresh(draft)

    with pytest.raises(IntegrityError, match="The themes of a signed note cannot change"), transaction.atomic():
        note.themes.add(second)
    with pytest.raises(IntegrityError, match="The themes of a signed note cannot change"), transaction.atomic():
        NoteTheme.objects.filter(note=note).delete()
    with pytest.raises(IntegrityError, match="The themes of a signed note cannot change"), transaction.atomic():
        NoteTheme.objects.filter(note=note).update(theme=second)

    assert list(fresh(draft).themes.all()) == [first]


def test_notes_have_no_admin_pages(client, admin, signed_note):
    client.force_login(admin)

    assert not admin_site_registers(Note)
    assert not admin_site_registers(Addendum)
    assert not admin_site_registers(NoteTheme)
    assert client.get("/admin/therapy_sessions/note/").status_code == 404
    assert client.get(f"/admin/therapy_sessions/note/{signed_note.pk}/change/").status_code == 404
    # The admin site itself answers, so the 404s above are about notes.
    assert client.get("/admin/").status_code == 200


def admin_site_registers(model) -> bool:
    return admin.site.is_registered(model)


# -- Addenda ---------------------------------------------------------------------------------------------------


def test_the_author_adds_an_addendum_shown_below_the_note_with_date_and_author(client, therapist, signed_note):
    session = signed_note.session
    client.force_login(therapist)

    response = client.post(
        reverse("sessions:addendum", args=[session.pk]), {"text": "  Rättelse: samtalet var 50 minuter.  "}
    )

    assert response.status_code == 302
    addendum = Addendum.objects.get(note=signed_note)
    assert (addendum.author, addendum.text) == (therapist, "Rättelse: samtalet var 50 minuter.")
    page = client.get(detail_url(session)).content.decode()
    written = timezone.localtime(addendum.created_at).strftime("%Y-%m-%d %H:%M")
    heading = _("Addendum by %(who)s, %(when)s") % {"who": str(therapist), "when": written}
    assert heading in page
    assert page.index("Signerad anteckning om samtalet.") < page.index(heading)
    assert page.index(heading) < page.index("Rättelse: samtalet var 50 minuter.")
    assert fresh(signed_note).text == "Signerad anteckning om samtalet."


def test_an_empty_addendum_is_refused_and_nothing_is_saved(client, therapist, signed_note):
    client.force_login(therapist)

    response = client.post(reverse("sessions:addendum", args=[signed_note.session_id]), {"text": ""})

    assert response.status_code == 400
    assert response.context["addendum_form"].errors == {"text": [_("This field is required.")]}
    assert not Addendum.objects.exists()


def test_an_addendum_to_a_draft_is_refused(client, therapist, draft):
    client.force_login(therapist)

    response = client.post(reverse("sessions:addendum", args=[draft.session_id]), {"text": "För tidigt."})

    assert response.status_code == 400
    assert response.context["addendum_form"].non_field_errors() == [
        _("A draft is changed directly; an addendum follows a signed note.")
    ]
    assert not Addendum.objects.exists()


def test_an_addendum_to_a_note_of_a_session_marked_as_wrongly_recorded_is_refused(client, therapist, signed_note):
    """The page offers no addendum form for it; a crafted POST gets the same answer, not a new entry."""
    session = signed_note.session
    session.voided_at, session.voided_by, session.void_reason = timezone.now(), therapist, "Fel klient."
    session.save(update_fields=["voided_at", "voided_by", "void_reason"])
    client.force_login(therapist)

    response = client.post(reverse("sessions:addendum", args=[session.pk]), {"text": "Tillägg i efterhand."})

    assert response.status_code == 400
    assert response.context["addendum_form"].non_field_errors() == [
        _("This session is marked as wrongly recorded: its note takes no addendum.")
    ]
    assert not Addendum.objects.exists()


def test_a_co_therapist_who_is_not_the_author_cannot_add_an_addendum(client, colleague, case, signed_note):
    case.co_therapists.add(colleague)
    client.force_login(colleague)

    page = client.get(detail_url(signed_note.session))
    response = client.post(reverse("sessions:addendum", args=[signed_note.session_id]), {"text": "Bertils tillägg."})

    assert page.status_code == 200
    assert page.context["addendum_form"] is None
    assert response.status_code == 403
    assert not Addendum.objects.exists()


def test_an_addendum_cannot_be_changed_or_deleted(therapist, signed_note):
    addendum = Addendum.objects.create(note=signed_note, author=therapist, text="Tillägg.")

    # The runtime role the app works as may only add addenda; the owner of the table is stopped by the trigger.
    not_granted = pytest.raises(ProgrammingError, match="permission denied for table therapy_sessions_addendum")
    with not_granted, transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).update(text="Ändrat tillägg.")
    with not_granted, transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).delete()
    with owner_connection(), refused_by_trigger("therapy_sessions_addendum"), transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).update(text="Ändrat tillägg.")
    with owner_connection(), refused_by_trigger("therapy_sessions_addendum"), transaction.atomic():
        Addendum.objects.filter(pk=addendum.pk).delete()

    assert list(Addendum.objects.values_list("text", flat=True)) == ["Tillägg."]


# -- Autosave and two tabs -------------------------------------------------------------------------------------


def test_the_first_autosave_starts_the_note_and_each_save_counts_up(client, therapist, held_session):
    first_theme, _second = themes_of(held_session)
    client.force_login(therapist)

    first = client.post(
        autosave_url(held_session),
        {"note-text": "Första meningen.", "note-version": "0", "note-themes": [str(first_theme.pk)]},
    )
    second = client.post(autosave_url(held_session), {"note-text": "Första meningen. Andra.", "note-version": "1"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["version"] == 1
    assert second.json()["version"] == 2
    assert sorted(first.json()) == ["message", "version"]
    note = Note.objects.get(session=held_session)
    assert (note.author, note.text, note.version, note.signed_at) == (therapist, "Första meningen. Andra.", 2, None)
    # Themes left out of a save leave nothing chosen: the form posts every box that is ticked.
    assert list(note.themes.all()) == []


def test_two_tabs_the_stale_autosave_is_refused_and_erases_nothing(client, therapist, draft):
    session = draft.session
    tab_b = Browser()
    client.force_login(therapist)
    tab_b.force_login(therapist)

    saved_a = client.post(autosave_url(session), {"note-text": "Text från flik A.", "note-version": "1"})
    refused_b = tab_b.post(autosave_url(session), {"note-text": "Text från flik B.", "note-version": "1"})

    assert saved_a.status_code == 200
    assert saved_a.json()["version"] == 2
    assert refused_b.status_code == 409
    answer = refused_b.json()
    assert (answer["conflict"], answer["version"], answer["texts"]) == (
        True,
        2,
        [{"label": _("Note"), "text": "Text från flik A."}],
    )
    stored = fresh(draft)
    assert (stored.text, stored.version) == ("Text från flik A.", 2)

    retried_b = tab_b.post(autosave_url(session), {"note-text": "Flik A och flik B.", "note-version": "2"})

    assert retried_b.status_code == 200
    assert retried_b.json()["version"] == 3
    stored = fresh(draft)
    assert (stored.text, stored.version) == ("Flik A och flik B.", 3)


def test_a_stale_full_page_save_is_refused_shows_the_conflict_and_keeps_what_was_typed(client, therapist, draft):
    session = draft.session
    themes = themes_of(session)
    tab_b = Browser()
    client.force_login(therapist)
    tab_b.force_login(therapist)
    client.post(autosave_url(session), {"note-text": "Text från flik A.", "note-version": "1"})

    response = tab_b.post(
        detail_url(session),
        document(session, text="Text från flik B.", note_version=1, themes=themes, duration_minutes="50"),
    )

    assert response.status_code == 409
    assert response.context["conflict"].text == "Text från flik A."
    assert 'class="border bg-white p-2 text-prewrap">Text från flik A.</div>' in response.content.decode()
    note_form = response.context["note_form"]
    assert note_form["text"].value() == "Text från flik B."
    assert note_form["version"].value() == 2
    assert sorted(int(pk) for pk in note_form["themes"].value()) == sorted(t.pk for t in themes)
    stored = fresh(draft)
    assert (stored.text, stored.version, list(stored.themes.all())) == ("Text från flik A.", 2, [])
    stored_session = TherapySession.objects.get(pk=session.pk)
    assert (stored_session.duration_minutes, stored_session.version) == (60, 1)


def test_autosave_by_a_co_therapist_who_is_not_the_author_is_refused(client, colleague, case, draft):
    case.co_therapists.add(colleague)
    client.force_login(colleague)

    response = client.post(autosave_url(draft.session), {"note-text": "Bertil skriver över.", "note-version": "1"})

    assert response.status_code == 403
    assert response.json() == {"error": _("Only the author writes the note.")}
    stored = fresh(draft)
    assert (stored.text, stored.version, stored.author) == ("Utkast: klienten beskrev veckan.", 1, draft.author)


# -- Voiding ("felmarkerad") -----------------------------------------------------------------------------------


def timeline_sessions(response) -> list:
    return [entry.item.pk for entry in response.context["entries"] if entry.kind == "session"]


def test_voiding_needs_a_reason(client, therapist, signed_note):
    session = signed_note.session
    client.force_login(therapist)

    response = client.post(reverse("sessions:void", args=[session.pk]), {"reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": [_("This field is required.")]}
    stored = TherapySession.objects.get(pk=session.pk)
    assert (stored.voided_at, stored.voided_by, stored.void_reason) == (None, None, "")


def test_a_voided_session_leaves_the_timeline_but_is_kept_and_logged(client, therapist, case, signed_note):
    session = signed_note.session
    client.force_login(therapist)
    timeline = reverse("sessions:timeline", args=[case.pk])
    assert timeline_sessions(client.get(timeline)) == [session.pk]

    response = client.post(reverse("sessions:void", args=[session.pk]), {"reason": "Skrivet på fel klient."})

    assert response.status_code == 302
    assert response.url == timeline
    stored = TherapySession.objects.get(pk=session.pk)
    assert stored.voided_at is not None
    assert (stored.voided_by, stored.void_reason) == (therapist, "Skrivet på fel klient.")
    assert timeline_sessions(client.get(timeline)) == []
    with_voided = client.get(timeline, {"voided": "1"})
    assert timeline_sessions(with_voided) == [session.pk]
    assert "Skrivet på fel klient." in with_voided.content.decode()
    note = fresh(signed_note)
    assert (note.text, note.signed_at, note.version) == ("Signerad anteckning om samtalet.", signed_note.signed_at, 1)
    log = AccessLogEntry.objects.get(reason="voided")
    assert (log.user, log.action, log.client_id, log.object_id) == (therapist, "update", case.pk, str(session.pk))


def test_no_next_session_is_booked_from_a_voided_entry(client, therapist, case, signed_note):
    """The entry was written on the wrong client: booking "the next one" from it would book that client."""
    session = signed_note.session
    client.force_login(therapist)
    client.post(reverse("sessions:void", args=[session.pk]), {"reason": "Skrivet på fel klient."})
    next_week = session.date + datetime.timedelta(days=7)

    response = client.post(
        reverse("sessions:book_next", args=[session.pk]), {"date": next_week.isoformat(), "start_time": "10:00"}
    )

    assert response.status_code == 400
    assert response.context["book_form"].non_field_errors() == [_("This session is marked as wrongly recorded.")]
    assert list(TherapySession.objects.values_list("pk", flat=True)) == [session.pk]


# -- The session's facts ---------------------------------------------------------------------------------------


def booking(therapist, *, date, start="10:00", minutes="60", attendance=Attendance.BOOKED, fee="", **extra) -> dict:
    return {
        "date": date.isoformat(),
        "start_time": start,
        "duration_minutes": minutes,
        "kind": "individual",
        "attendance": attendance,
        "therapists": [str(therapist.pk)],
        "fee_charged": fee,
        "version": "0",
        **extra,
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"minutes": "0"}, "duration_minutes", ("A session lasts at least one minute.", {})),
        (
            {"minutes": "481"},
            "duration_minutes",
            ("A session lasts at most %(limit_value)s minutes (8 hours).", {"limit_value": 480}),
        ),
        ({"fee": "-1"}, "fee_charged", ("The fee cannot be negative.", {})),
        (
            {"days_ahead": 1, "attendance": Attendance.ATTENDED},
            "attendance",
            ("A session in the future cannot have been held yet.", {}),
        ),
    ],
    ids=["duration-0", "duration-481", "negative-fee", "held-in-the-future"],
)
def test_bad_session_facts_are_refused_on_their_field(client, therapist, case, overrides, field, message):
    overrides = dict(overrides)
    date = timezone.localdate() + datetime.timedelta(days=overrides.pop("days_ahead", 0))
    client.force_login(therapist)

    response = client.post(reverse("sessions:new", args=[case.pk]), booking(therapist, date=date, **overrides))

    msgid, params = message
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [_(msgid) % params if params else _(msgid)]}
    assert not TherapySession.objects.exists()


def test_a_good_booking_is_saved(client, therapist, case):
    """The other side of the refusals above: the same form with good values saves."""
    client.force_login(therapist)
    tomorrow = working_day(1)

    response = client.post(
        reverse("sessions:new", args=[case.pk]),
        booking(therapist, date=tomorrow, start="08:00", minutes="480", fee="0"),
    )

    assert response.status_code == 302
    session = TherapySession.objects.get()
    assert (session.date, session.duration_minutes, session.attendance) == (tomorrow, 480, Attendance.BOOKED)


def test_an_empty_fee_takes_the_clinic_fee_for_the_type(client, therapist, case):
    """Booking and the note page alike: a blank fee means the clinic's fee for that type of session."""
    SessionFee.objects.create(clinic=case.clinic, kind="individual", amount=Decimal("100"))
    SessionFee.objects.create(clinic=case.clinic, kind="couple", amount=Decimal("150"))
    client.force_login(therapist)

    client.post(reverse("sessions:new", args=[case.pk]), booking(therapist, date=working_day()))
    session = TherapySession.objects.get()
    assert session.fee_charged == Decimal("100")

    response = client.post(
        detail_url(session),
        document(session, text="Paret kom tillsammans.", note_version=0, kind="couple", fee_charged=""),
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.kind, session.fee_charged) == ("couple", Decimal("150"))


def test_an_overlapping_session_asks_for_confirmation_then_saves(client, therapist, case):
    tomorrow = working_day(1)
    existing = TherapySessionFactory(client=case, date=tomorrow, attendance=Attendance.BOOKED)
    client.force_login(therapist)
    url = reverse("sessions:new", args=[case.pk])

    asked = client.post(url, booking(therapist, date=tomorrow, start="10:30"))

    assert asked.status_code == 200
    form = asked.context["form"]
    message = _(
        "Overlaps another session of the same therapist on this day (%(times)s). Check the time, or tick “save anyway”."
    ) % {"times": "10:00–11:00"}
    assert form.errors == {"start_time": [message]}
    assert isinstance(form.fields["allow_overlap"].widget, CheckboxInput)
    assert re.search(r'<input type="checkbox" name="allow_overlap"', asked.content.decode())
    assert list(TherapySession.objects.all()) == [existing]

    confirmed = client.post(url, booking(therapist, date=tomorrow, start="10:30", allow_overlap="on"))

    assert confirmed.status_code == 302
    added = TherapySession.objects.exclude(pk=existing.pk).get()
    assert (added.date, added.start_time, list(added.therapists.all())) == (
        tomorrow,
        datetime.time(10, 30),
        [therapist],
    )


def test_adjacent_sessions_do_not_overlap(client, therapist, case):
    tomorrow = working_day(1)
    TherapySessionFactory(client=case, date=tomorrow, attendance=Attendance.BOOKED)
    client.force_login(therapist)
    url = reverse("sessions:new", args=[case.pk])

    after = client.post(url, booking(therapist, date=tomorrow, start="11:00"))
    before = client.post(url, booking(therapist, date=tomorrow, start="09:00"))

    assert (after.status_code, before.status_code) == (302, 302)
    assert sorted(TherapySession.objects.values_list("start_time", flat=True)) == [
        datetime.time(9, 0),
        datetime.time(10, 0),
        datetime.time(11, 0),
    ]
