"""The clinic tablet, end to end: a one-time code opens one questionnaire and nothing else."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
import time_machine
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments import services
from assessments.models import Administration, Answer, FilledBy, TabletCode, TimePoint, WrongTabletCode
from assessments.services import TABLET_CODE_ALPHABET, TABLET_SESSION_KEY, version_for
from clients.models import CaseStatus, StatusChange
from kast.models import AccessLogEntry
from tests.assessments.test_filling import as_read
from tests.factories import ClientFactory, open_first_period

pytestmark = pytest.mark.django_db

Action = AccessLogEntry.Action
ALIAS = "Zebulon"
NAME = "Zebulon Hemligsson"


def in_treatment(client):
    open_first_period(client)
    episode = client.episodes.get()
    for source, target in [
        (CaseStatus.CONTACT, CaseStatus.ASSESSMENT),
        (CaseStatus.ASSESSMENT, CaseStatus.IN_TREATMENT),
    ]:
        StatusChange.objects.create(
            client=client, episode=episode, from_status=source, to_status=target, by=client.responsible_therapist
        )
    client.status = CaseStatus.IN_TREATMENT
    client.save(update_fields=["status"])
    return client


def administration_of(client, time_point=TimePoint.START) -> Administration:
    return Administration.objects.create(
        client=client,
        episode=client.episodes.get(),
        time_point=time_point,
        version=version_for(time_point),
        created_by=client.responsible_therapist,
    )


@pytest.fixture
def case(client_record):
    """`client_record` in treatment, with a name and an alias the tablet must never show."""
    client_record.alias, client_record.full_name = ALIAS, NAME
    client_record.save(update_fields=["alias", "full_name"])
    return in_treatment(client_record)


@pytest.fixture
def questionnaire(case):
    """The start questionnaire of `case`, not yet answered."""
    return administration_of(case)


@pytest.fixture
def tablet():
    """The clinic tablet: a browser of its own, signed in as nobody."""
    return Browser()


def code_for(client, administration) -> str:
    """The therapist asks for a tablet code; the code as the page shows it."""
    response = client.post(reverse("assessments:tablet_code", args=[administration.pk]))
    assert response.status_code == 200
    shown = re.findall(r'<p class="display-5 font-monospace"[^>]*>([^<]*)</p>', response.content.decode())
    assert shown == [response.context["code"]]
    return shown[0]


def open_code(browser, code):
    return browser.post(reverse("assessments:tablet"), {"code": code})


def answers(administration) -> dict[str, tuple]:
    return {
        answer.item.code: (answer.declined, answer.value_bool, answer.value_int, answer.value_text)
        for answer in Answer.objects.filter(administration=administration).select_related("item")
    }


def refused_code_message() -> str:
    with translation.override("sv"):
        return _("The code is not valid. It may have been used or expired; ask your therapist.")


# -- The code ----------------------------------------------------------------------------------------------


def test_the_therapist_gets_a_code_of_which_only_the_hash_is_stored(client, therapist, questionnaire):
    client.force_login(therapist)

    code = code_for(client, questionnaire)

    assert len(code) == 8
    assert set(code) <= set(TABLET_CODE_ALPHABET)
    stored = TabletCode.objects.get()
    assert stored.code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert (stored.administration, stored.created_by, stored.used_at) == (questionnaire, therapist, None)
    # Two hours from its creation (the two stamps are taken a moment apart).
    assert abs(stored.expires_at - stored.created_at - datetime.timedelta(hours=2)) < datetime.timedelta(seconds=1)
    assert code not in str(list(TabletCode.objects.values_list()))
    assert code not in str(list(AccessLogEntry.objects.values_list()))
    entry = AccessLogEntry.objects.get(reason="tablet_code")
    assert (entry.user, entry.action, entry.client_id, entry.object_type, entry.object_id) == (
        therapist,
        Action.UPDATE,
        questionnaire.client_id,
        "assessments.administration",
        str(questionnaire.pk),
    )


def test_no_code_is_given_for_a_submitted_questionnaire(client, therapist, questionnaire):
    Administration.objects.filter(pk=questionnaire.pk).update(submitted_at=timezone.now())
    client.force_login(therapist)

    response = client.post(reverse("assessments:tablet_code", args=[questionnaire.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:client", args=[questionnaire.client_id])
    assert not TabletCode.objects.exists()


# -- Opening it on the tablet ------------------------------------------------------------------------------


def test_the_tablet_shows_the_questions_and_nothing_about_the_client(client, therapist, case, questionnaire, tablet):
    client.force_login(therapist)
    code = code_for(client, questionnaire)

    assert tablet.get(reverse("assessments:tablet")).status_code == 200
    response = open_code(tablet, code.lower())  # typed in lower case: still the code

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:tablet_form")
    page = tablet.get(response["Location"])
    assert page.status_code == 200
    content = page.content.decode()
    assert "Har du en partner?" in content
    assert "Hur mår du just nu?" in content
    for secret in [case.code, ALIAS, NAME, str(case.pk), therapist.get_full_name(), therapist.last_name]:
        assert secret not in content
    assert "_auth_user_id" not in tablet.session
    assert tablet.session[TABLET_SESSION_KEY] == TabletCode.objects.get().pk
    entry = AccessLogEntry.objects.get(reason="tablet")
    assert (entry.user, entry.action, entry.client_id, entry.object_id) == (
        therapist,
        Action.VIEW,
        case.pk,
        str(questionnaire.pk),
    )


def test_the_tablet_reaches_no_other_page(client, therapist, case, questionnaire, tablet):
    client.force_login(therapist)
    code = code_for(client, questionnaire)
    assert open_code(tablet, code).status_code == 302
    urls = [
        "/",
        reverse("clients:list"),
        reverse("clients:detail", args=[case.pk]),
        reverse("clients:edit", args=[case.pk]),
        reverse("assessments:client", args=[case.pk]),
        reverse("assessments:fill", args=[questionnaire.pk]),
        reverse("sessions:timeline", args=[case.pk]),
        reverse("sessions:calendar"),
        reverse("access_log"),
        "/admin/",
        f"/admin/kast/user/{therapist.pk}/change/",
    ]

    for url in urls:
        response = tablet.get(url)
        content = response.content.decode()
        assert response.status_code in (302, 403, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login")), url
        assert case.code not in content, url
        assert ALIAS not in content, url
    # Still the one questionnaire, and still signed in as nobody.
    assert tablet.get(reverse("assessments:tablet_form")).status_code == 200
    assert "_auth_user_id" not in tablet.session


def test_the_tablet_saves_then_submits_and_the_code_is_used_up(client, therapist, case, questionnaire, tablet):
    client.force_login(therapist)
    code = code_for(client, questionnaire)
    open_code(tablet, code)
    form_url = reverse("assessments:tablet_form")

    saved = tablet.post(
        form_url, as_read(questionnaire, {"item_has_partner": "yes", "item_wellbeing": "2", "save": ""})
    )

    assert saved.status_code == 302
    assert saved["Location"] == form_url
    assert answers(questionnaire) == {"has_partner": (False, True, None, ""), "wellbeing": (False, None, 2, "")}
    assert tablet.get(form_url).context["form"].initial["item_wellbeing"] == "2"

    sent = tablet.post(
        form_url,
        as_read(
            questionnaire,
            {"item_has_partner": "yes", "item_wellbeing": "3", "item_own_words": "Från plattan.", "submit": ""},
        ),
    )

    assert sent.status_code == 302
    assert sent["Location"] == reverse("assessments:tablet_done")
    assert tablet.get(sent["Location"]).status_code == 200
    questionnaire.refresh_from_db()
    assert questionnaire.submitted_at is not None
    assert questionnaire.filled_by == FilledBy.CLIENT
    assert answers(questionnaire) == {
        "has_partner": (False, True, None, ""),
        "wellbeing": (False, None, 3, ""),
        "own_words": (False, None, None, "Från plattan."),
    }
    used = TabletCode.objects.get()
    assert used.used_at is not None
    updates = AccessLogEntry.objects.filter(action=Action.UPDATE, object_id=str(questionnaire.pk)).order_by("pk")
    assert list(updates.values_list("user", "reason")) == [
        (therapist.pk, "tablet_code"),
        (therapist.pk, ""),
        (therapist.pk, "submitted"),
    ]

    # The device has nothing open any more, and the code does not open it again.
    after = tablet.get(form_url)
    assert after.status_code == 302
    assert after["Location"] == reverse("assessments:tablet")
    again = open_code(tablet, code)
    assert again.status_code == 400
    assert again.context["form"].errors == {"code": [refused_code_message()]}
    denied = AccessLogEntry.objects.get(action=Action.DENIED)
    assert (denied.user, denied.reason, denied.client_id, denied.object_id) == (
        therapist,
        "tablet_code_used",
        case.pk,
        str(questionnaire.pk),
    )
    # The therapist reads what the client sent, marked as filled in on the tablet.
    page = client.get(reverse("assessments:fill", args=[questionnaire.pk]))
    assert "Från plattan." in page.content.decode()
    with translation.override("sv"):
        assert str(FilledBy.CLIENT.label) in page.content.decode()


def test_a_bad_answer_on_the_tablet_is_a_field_error_and_nothing_is_saved(client, therapist, questionnaire, tablet):
    client.force_login(therapist)
    open_code(tablet, code_for(client, questionnaire))

    response = tablet.post(
        reverse("assessments:tablet_form"),
        as_read(questionnaire, {"item_has_partner": "yes", "item_wellbeing": "7", "submit": ""}),
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["item_wellbeing"]
    questionnaire.refresh_from_db()
    assert (questionnaire.submitted_at, answers(questionnaire)) == (None, {})
    assert TabletCode.objects.get().used_at is None


def test_an_expired_code_is_refused_and_logged(client, therapist, case, questionnaire, tablet):
    client.force_login(therapist)
    code = code_for(client, questionnaire)
    TabletCode.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    response = open_code(tablet, code)

    assert response.status_code == 400
    assert response.context["form"].errors == {"code": [refused_code_message()]}
    assert TABLET_SESSION_KEY not in tablet.session
    denied = AccessLogEntry.objects.get(action=Action.DENIED)
    assert (denied.user, denied.reason, denied.client_id) == (therapist, "tablet_code_expired", case.pk)
    assert tablet.get(reverse("assessments:tablet_form"))["Location"] == reverse("assessments:tablet")


def test_a_code_that_expires_while_the_tablet_has_it_open_stops_working(client, therapist, questionnaire, tablet):
    client.force_login(therapist)
    open_code(tablet, code_for(client, questionnaire))
    TabletCode.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    response = tablet.post(
        reverse("assessments:tablet_form"), as_read(questionnaire, {"item_has_partner": "no", "submit": ""})
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:tablet")
    questionnaire.refresh_from_db()
    assert (questionnaire.submitted_at, answers(questionnaire)) == (None, {})


@pytest.mark.parametrize("wrong", ["ZZZZZZZZ", "", "   ", "x" * 13])
def test_a_wrong_code_is_refused_without_an_error_page(client, therapist, questionnaire, tablet, wrong):
    client.force_login(therapist)
    code_for(client, questionnaire)
    entries = AccessLogEntry.objects.count()

    response = open_code(tablet, wrong)

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["code"]
    assert TABLET_SESSION_KEY not in tablet.session
    assert AccessLogEntry.objects.count() == entries


# -- One code, one questionnaire ---------------------------------------------------------------------------


def test_a_code_opens_only_its_own_questionnaire(client, therapist, questionnaire, tablet):
    other_client = in_treatment(ClientFactory(responsible_therapist=therapist, alias="Ottilia"))
    other = administration_of(other_client)
    client.force_login(therapist)
    code_a = code_for(client, questionnaire)
    code_b = code_for(client, other)
    open_code(tablet, code_a)

    response = tablet.post(
        reverse("assessments:tablet_form"),
        as_read(questionnaire, {"item_has_partner": "no", "item_own_words": "Svar A", "submit": ""}),
    )

    assert response.status_code == 302
    assert answers(questionnaire) == {
        "has_partner": (False, False, None, ""),
        "own_words": (False, None, None, "Svar A"),
    }
    assert answers(other) == {}
    other.refresh_from_db()
    assert other.submitted_at is None
    assert TabletCode.objects.get(administration=other).used_at is None
    # B's code still opens B's questionnaire.
    second_tablet = Browser()
    assert open_code(second_tablet, code_b).status_code == 302
    assert second_tablet.session[TABLET_SESSION_KEY] == TabletCode.objects.get(administration=other).pk


def test_a_therapist_who_types_a_code_in_their_own_browser_is_signed_out(client, therapist, case, questionnaire):
    client.force_login(therapist)
    code = code_for(client, questionnaire)

    response = open_code(client, code)

    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:tablet_form")
    assert "_auth_user_id" not in client.session
    clients_page = client.get(reverse("clients:list"))
    assert clients_page.status_code == 302
    assert clients_page["Location"].startswith(reverse("login"))
    assert client.get(reverse("assessments:tablet_form")).status_code == 200


def test_a_new_code_for_the_same_questionnaire_ends_the_earlier_one(client, therapist, questionnaire, tablet):
    client.force_login(therapist)
    first = code_for(client, questionnaire)
    open_code(tablet, first)
    assert tablet.get(reverse("assessments:tablet_form")).status_code == 200

    second = code_for(client, questionnaire)

    # The tablet that had the first code open loses it, and the first code no longer opens.
    assert tablet.get(reverse("assessments:tablet_form"))["Location"] == reverse("assessments:tablet")
    refused = open_code(Browser(), first)
    assert refused.status_code == 400
    assert AccessLogEntry.objects.filter(action=Action.DENIED).get().reason == "tablet_code_used"
    new_tablet = Browser()
    assert open_code(new_tablet, second).status_code == 302
    assert new_tablet.session[TABLET_SESSION_KEY] == TabletCode.objects.get(used_at__isnull=True).pk
    assert TabletCode.objects.filter(administration=questionnaire).count() == 2


# -- One device, few guesses -------------------------------------------------------------------------------


def test_a_code_opened_on_one_device_is_in_use_on_any_other(client, therapist, questionnaire, tablet):
    """A client's phone or a passer-by who read the code gets "in use", never the answers typed on the tablet."""
    client.force_login(therapist)
    code = code_for(client, questionnaire)
    assert open_code(tablet, code).status_code == 302
    second = Browser()

    refused = open_code(second, code)
    again_on_the_tablet = open_code(tablet, code)

    with translation.override("sv"):
        in_use = _("This code is already in use on another device. Ask your therapist for a new one.")
    assert refused.status_code == 400
    assert refused.context["form"].errors == {"code": [in_use]}
    assert TABLET_SESSION_KEY not in second.session
    assert second.get(reverse("assessments:tablet_form")).status_code == 302  # back to the code page
    assert again_on_the_tablet.status_code == 302  # the device that holds it may type it again
    assert AccessLogEntry.objects.filter(action="denied", reason="tablet_code_in_use").count() == 1


def test_wrong_codes_from_one_address_must_wait(client, therapist, questionnaire, tablet):
    client.force_login(therapist)
    code = code_for(client, questionnaire)
    guesses = [open_code(tablet, f"WRONG{n:03d}").status_code for n in range(services.TABLET_GUESS_LIMIT)]

    throttled = open_code(tablet, code)  # even the right code waits: the guesser must not learn which is right
    elsewhere = Browser(REMOTE_ADDR="10.0.0.9")

    assert guesses == [400] * services.TABLET_GUESS_LIMIT
    assert throttled.status_code == 429
    assert TABLET_SESSION_KEY not in tablet.session
    assert open_code(elsewhere, code).status_code == 302  # another address is not held up


def test_an_empty_form_from_a_throttled_address_gets_the_message_not_an_error(tablet):
    for n in range(services.TABLET_GUESS_LIMIT):
        open_code(tablet, f"WRONG{n:03d}")

    response = tablet.post(reverse("assessments:tablet"), {})  # found by the fuzzing test: this was a 500

    assert response.status_code == 429
    assert response.context["form"].non_field_errors()


def test_wrong_codes_from_many_addresses_together_must_wait(client, therapist, questionnaire, monkeypatch):
    monkeypatch.setattr(services, "TABLET_GUESS_LIMIT_ALL", 3)
    client.force_login(therapist)
    code = code_for(client, questionnaire)
    guessers = [Browser(REMOTE_ADDR=f"10.0.1.{n}") for n in range(3)]
    guesses = [open_code(guesser, "WRONG000").status_code for guesser in guessers]

    newcomer = Browser(REMOTE_ADDR="10.0.2.1")

    assert guesses == [400, 400, 400]
    assert open_code(newcomer, code).status_code == 429


def test_wrong_codes_are_counted_in_the_database_without_the_code_and_forgotten_after_the_window(tablet):
    with time_machine.travel("2026-03-02 09:00", tick=False):
        open_code(tablet, "WRONG001")
    with time_machine.travel("2026-03-02 09:20", tick=False):
        open_code(tablet, "WRONG002")

    kept = list(WrongTabletCode.objects.values_list("address", flat=True))
    assert kept == ["127.0.0.1"]  # the try of 09:00 is past the window and gone; no code is stored


def test_a_graded_answer_outside_its_scale_on_the_tablet_is_a_field_error(client, therapist, case, tablet):
    follow_up = administration_of(case, TimePoint.FOLLOW_UP)
    client.force_login(therapist)
    open_code(tablet, code_for(client, follow_up))

    response = tablet.post(
        reverse("assessments:tablet_form"),
        as_read(follow_up, {"item_satisfaction_amount": "6", "item_seek_similar_again": "yes", "submit": ""}),
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["item_satisfaction_amount"]
    follow_up.refresh_from_db()
    assert (follow_up.submitted_at, answers(follow_up)) == (None, {})
    assert TabletCode.objects.get().used_at is None
