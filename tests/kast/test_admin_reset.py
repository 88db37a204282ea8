"""An administrator cannot become a therapist: no password of another user is set in the admin site, only a reset
started there and completed by the user (a one-time link, then a new second factor of her own). Every reset,
removed second factor and change of role or clinic is in the login log and the log review, and the user is told
at her next login."""

from __future__ import annotations

import base64
import datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import LogReview, ReviewKind
from audit.selectors import review_queue
from kast.models import AccessLogEntry, LoginEvent, Role, StaffSession, User
from kast.selectors import account_changes_notice
from tests.kast.test_two_factor import PASSWORD, code_step, password_step
from tests.otp import authenticator_for, current_code

pytestmark = pytest.mark.django_db

Event = LoginEvent.Event
NEW_PASSWORD = "en ny lösenfras som bara anna vet"


def change_form(user, **changes) -> dict:
    """The staff change form as the admin site posts it (the password is no field of it)."""
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "clinic": user.clinic_id or "",
        "fte": "1.00",
        "is_active": "on",
    }
    return {**form, **changes}


def start_reset(client, admin, user) -> str:
    """The administrator starts a reset; the path of the one-time link she is shown."""
    client.force_login(admin)
    response = client.post(reverse("admin:kast_user_reset", args=[user.pk]))
    assert response.status_code == 200
    return urlsplit(response.context["link"]).path


def use_link(browser, link: str, password: str = NEW_PASSWORD):
    """Open the link (Django moves the token into the session and drops it from the address), set the password."""
    opened = browser.get(link)
    assert opened.status_code == 302
    form_page = browser.get(opened["Location"])
    assert form_page.context["validlink"] is True
    return browser.post(opened["Location"], {"new_password1": password, "new_password2": password})


def set_up_authenticator(browser) -> str:
    """The setup wizard after a password-only login; returns the new key (base32)."""
    key = browser.post(reverse("two_factor:setup"), {"setup_view-current_step": "welcome"}).context["secret_key"]
    code = f"{totp(base64.b32decode(key)):06d}"
    done = browser.post(reverse("two_factor:setup"), {"setup_view-current_step": "generator", "generator-token": code})
    assert done["Location"] == reverse("two_factor:setup_complete")
    return key


def account_events(user) -> list[tuple[str, str]]:
    return list(
        LoginEvent.objects.filter(user=user, event__in=LoginEvent.ACCOUNT_CHANGES)
        .order_by("id")
        .values_list("event", "reason")
    )


def notices(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def expected_notice(user) -> str:
    """The notice of every change to `user`'s account, in Swedish, as the page shows it."""
    changes = LoginEvent.objects.filter(user=user, event__in=LoginEvent.ACCOUNT_CHANGES).order_by("at", "id")
    with translation.override("sv"):
        return account_changes_notice(list(changes))


# No password of another user in the admin site


def test_the_change_page_of_another_user_has_no_password_field(client, admin, therapist):
    client.force_login(admin)

    page = client.get(reverse("admin:kast_user_change", args=[therapist.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "password" not in page.context["adminform"].form.fields
    assert 'name="password' not in html
    assert f"/admin/kast/user/{therapist.pk}/password/" not in html
    assert reverse("admin:kast_user_reset", args=[therapist.pk]) in html


def test_the_password_page_of_another_user_is_refused(client, admin, therapist):
    client.force_login(admin)
    url = reverse("admin:auth_user_password_change", args=[therapist.pk])

    shown = client.get(url)
    posted = client.post(url, {"password1": "admin-vald-lösenfras", "password2": "admin-vald-lösenfras"})

    therapist.refresh_from_db()
    assert (shown.status_code, posted.status_code) == (403, 403)
    assert therapist.check_password(PASSWORD)
    assert (
        AccessLogEntry.objects.filter(
            user=admin, action=AccessLogEntry.Action.DENIED, object_type="kast.user_password", path=url
        ).count()
        == 2
    )


def test_an_administrators_own_password_goes_through_the_ordinary_change(client, admin):
    client.force_login(admin)

    response = client.get(reverse("admin:auth_user_password_change", args=[admin.pk]))

    assert (response.status_code, response["Location"]) == (302, reverse("password_change"))


def test_a_new_account_has_no_password_until_its_user_sets_one(client, admin, gbg):
    client.force_login(admin)

    form_page = client.get(reverse("admin:kast_user_add"))
    response = client.post(
        reverse("admin:kast_user_add"),
        {
            "username": "nyanstalld",
            "first_name": "Ny",
            "last_name": "Anställd",
            "role": Role.THERAPIST,
            "clinic": gbg.pk,
        },
    )

    user = User.objects.get(username="nyanstalld")
    assert set(form_page.context["adminform"].form.fields) == {"username", "first_name", "last_name", "role", "clinic"}
    assert response["Location"] == reverse("admin:kast_user_change", args=[user.pk])
    assert not user.has_usable_password()
    assert (user.role, user.clinic, user.is_staff) == (Role.THERAPIST, gbg, False)


def test_an_administrator_adds_or_changes_no_second_factor_device(client, admin, therapist):
    device = authenticator_for(therapist)
    client.force_login(admin)

    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    assert client.get(reverse("admin:otp_static_staticdevice_add")).status_code == 403
    response = client.post(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]), {"name": "mine"})
    device.refresh_from_db()
    assert (response.status_code, device.name) == (403, "default")


# The reset


def test_an_administrator_starts_a_reset_and_is_shown_a_one_time_link(client, admin, therapist):
    authenticator_for(therapist)
    client.force_login(admin)

    confirm = client.get(reverse("admin:kast_user_reset", args=[therapist.pk]))
    link = start_reset(client, admin, therapist)

    therapist.refresh_from_db()
    assert confirm.status_code == 200 and "link" not in confirm.context
    assert link.startswith("/password/reset/")
    # Nothing changes on the account until its user opens the link.
    assert therapist.check_password(PASSWORD)
    assert TOTPDevice.objects.filter(user=therapist).count() == 1
    assert account_events(therapist) == [(Event.RESET_STARTED, "by erik")]
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.ACCOUNT)
    assert (entry.user, entry.object_type, entry.object_id) == (admin, "kast.user", str(therapist.pk))
    assert entry.reason == "reset_started anna"
    assert link not in str(list(LoginEvent.objects.values_list("reason", flat=True)))


def test_the_link_sets_a_new_password_removes_the_second_factor_and_ends_the_sessions(client, admin, therapist):
    authenticator_for(therapist)
    StaticDevice.objects.create(user=therapist, name="backup").token_set.create(token="abcd2345")
    signed_in_elsewhere = Browser()
    signed_in_elsewhere.force_login(therapist)
    link = start_reset(client, admin, therapist)

    response = use_link(Browser(REMOTE_ADDR="10.9.8.7"), link)

    therapist.refresh_from_db()
    assert response["Location"] == reverse("password_reset_complete")
    assert therapist.check_password(NEW_PASSWORD)
    assert not TOTPDevice.objects.filter(user=therapist).exists()
    assert not StaticDevice.objects.filter(user=therapist).exists()
    assert not StaffSession.objects.filter(user=therapist).exists()
    assert signed_in_elsewhere.get(reverse("home")).status_code == 302
    assert account_events(therapist) == [
        (Event.RESET_STARTED, "by erik"),
        (Event.RESET_COMPLETED, ""),
        (Event.SECOND_FACTOR_REMOVED, "reset"),
    ]
    completed = LoginEvent.objects.get(event=Event.RESET_COMPLETED)
    assert completed.ip == "10.9.8.7"


def test_the_link_works_once(client, admin, therapist):
    link = start_reset(client, admin, therapist)
    use_link(Browser(), link)

    again = Browser().get(link)

    assert (again.status_code, again.context["validlink"]) == (200, False)


def test_the_link_expires_after_an_hour(client, admin, therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        link = start_reset(client, admin, therapist)
        clock.shift(datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 1))
        still_valid = Browser().get(link)
        clock.shift(datetime.timedelta(seconds=2))
        expired = Browser().get(link)

    therapist.refresh_from_db()
    assert settings.PASSWORD_RESET_TIMEOUT == 60 * 60
    assert still_valid.status_code == 302  # on to the form
    assert (expired.status_code, expired.context["validlink"]) == (200, False)
    assert therapist.check_password(PASSWORD)


def test_a_newer_reset_ends_the_earlier_link(client, admin, therapist):
    first = start_reset(client, admin, therapist)
    second = start_reset(client, admin, therapist)

    assert Browser().get(first).context["validlink"] is False
    assert use_link(Browser(), second)["Location"] == reverse("password_reset_complete")


def test_the_link_is_refused_in_a_signed_in_browser(client, admin, therapist):
    """An administrator opening the link herself, signed in, sets no password for the user."""
    link = start_reset(client, admin, therapist)

    page = client.get(link)
    posted = client.post(link, {"new_password1": "admin-vald-lösenfras", "new_password2": "admin-vald-lösenfras"})

    therapist.refresh_from_db()
    assert page.status_code == posted.status_code == 200
    assert page.templates[0].name == "registration/account_reset_signed_in.html"
    assert therapist.check_password(PASSWORD)
    assert use_link(Browser(), link)["Location"] == reverse("password_reset_complete")  # still the user's


def test_after_the_reset_the_user_sets_up_a_new_authenticator_and_is_told_once(client, admin, therapist):
    old_key = authenticator_for(therapist).key
    link = start_reset(client, admin, therapist)
    use_link(Browser(), link)
    browser = Browser()

    after_password = password_step(browser, "anna", NEW_PASSWORD)
    new_key = set_up_authenticator(browser)
    told = browser.get(reverse("home"))
    browser.post(reverse("logout"))
    TOTPDevice.objects.filter(user=therapist).update(last_t=-1)  # the setup's code may still be current
    password_step(browser, "anna", NEW_PASSWORD)
    next_login = code_step(browser, current_code(TOTPDevice.objects.get(user=therapist)))

    assert after_password["Location"] == reverse("two_factor:setup")
    assert base64.b32decode(new_key).hex() != old_key
    assert [event for event, _reason in account_events(therapist)] == [
        Event.RESET_STARTED,
        Event.RESET_COMPLETED,
        Event.SECOND_FACTOR_REMOVED,
    ]
    assert notices(told) == [expected_notice(therapist)]
    with translation.override("sv"):
        assert str(Event.RESET_STARTED.label) in notices(told)[0]
    assert next_login.status_code == 302
    assert notices(browser.get(reverse("home"))) == []


# Role, clinic and second factor changes: logged, queued, told


def test_a_change_of_role_and_clinic_is_logged_and_queued(client, admin, therapist, manager, mlm):
    client.force_login(admin)

    response = client.post(
        reverse("admin:kast_user_change", args=[therapist.pk]),
        change_form(therapist, role=Role.MANAGER, clinic=mlm.pk),
    )

    assert response.status_code == 302
    assert account_events(therapist) == [
        (Event.ROLE_CHANGED, "by erik: therapist → manager"),
        (Event.CLINIC_CHANGED, "by erik: GBG → MLM"),
    ]
    queued = list(review_queue(admin))
    assert [(entry.kind, entry.user, entry.reason) for entry in queued] == [
        (ReviewKind.ACCOUNT, admin, "role_changed anna therapist → manager"),
        (ReviewKind.ACCOUNT, admin, "clinic_changed anna GBG → MLM"),
    ]
    # The account is now Malmö's: Göteborg's manager no longer reviews it, Malmö's would.
    assert not review_queue(manager).exists()


def test_a_change_that_leaves_role_and_clinic_alone_is_not_queued(client, admin, therapist):
    client.force_login(admin)

    client.post(reverse("admin:kast_user_change", args=[therapist.pk]), change_form(therapist, first_name="Annika"))

    assert account_events(therapist) == []
    assert not review_queue(admin).exists()


def test_the_clinics_manager_reviews_the_changes_to_her_staffs_accounts(client, admin, therapist, manager):
    """The administrator has no clinic: the clinic's reviewer sees what was done to the clinic's accounts."""
    authenticator_for(therapist)
    client.force_login(admin)
    client.post(
        reverse("admin:kast_user_changelist"), {"action": "remove_second_factor", "_selected_action": [therapist.pk]}
    )
    reviewer = Browser()
    reviewer.force_login(manager)

    queue = reviewer.get(reverse("audit:queue"))
    entry = review_queue(manager).get()
    reviewed = reviewer.post(
        reverse("audit:review", args=[entry.pk]), {"outcome": "justified", "comment": "Ny telefon"}
    )

    with translation.override("sv"):
        shown = f"{Event.SECOND_FACTOR_REMOVED.label}: anna"
        kind = str(ReviewKind.ACCOUNT.label)
    assert shown in queue.content.decode() and kind in queue.content.decode()
    assert reviewed.status_code == 302
    review = LogReview.objects.get()
    assert (review.entry, review.kind, review.reviewed_by) == (entry, ReviewKind.ACCOUNT, manager)
    assert not review_queue(manager).exists()


def test_removing_the_second_factor_is_logged_queued_and_told(client, admin, therapist):
    authenticator_for(therapist)
    backup = StaticDevice.objects.create(user=therapist, name="backup")
    client.force_login(admin)

    response = client.post(
        reverse("admin:kast_user_changelist"), {"action": "remove_second_factor", "_selected_action": [therapist.pk]}
    )
    user_browser = Browser()
    after_password = password_step(user_browser, "anna")
    set_up_authenticator(user_browser)
    told = user_browser.get(reverse("home"))

    assert response.status_code == 302
    assert not StaticDevice.objects.filter(pk=backup.pk).exists()
    assert account_events(therapist) == [(Event.SECOND_FACTOR_REMOVED, "by erik")]
    assert [entry.kind for entry in review_queue(admin)] == [ReviewKind.ACCOUNT]
    assert after_password["Location"] == reverse("two_factor:setup")
    assert notices(told) == [expected_notice(therapist)]


def test_deleting_one_device_in_the_admin_site_is_logged(client, admin, therapist):
    authenticator_for(therapist)
    second = StaticDevice.objects.create(user=therapist, name="added in the admin")
    client.force_login(admin)

    response = client.post(reverse("admin:otp_static_staticdevice_delete", args=[second.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not StaticDevice.objects.exists()
    assert TOTPDevice.objects.filter(user=therapist).exists()
    assert account_events(therapist) == [(Event.SECOND_FACTOR_REMOVED, "by erik: staticdevice added in the admin")]


def test_the_user_is_told_of_a_new_role_at_her_next_login_only(client, admin, therapist, gbg):
    device = authenticator_for(therapist)
    client.force_login(admin)
    client.post(reverse("admin:kast_user_change", args=[therapist.pk]), change_form(therapist, role=Role.MANAGER))
    browser = Browser()

    password_step(browser, "anna")
    code_step(browser, current_code(device))
    told = browser.get(reverse("home"))
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the same code may still be current
    browser.post(reverse("logout"))
    password_step(browser, "anna")
    code_step(browser, current_code(device))
    again = browser.get(reverse("home"))

    assert notices(told) == [expected_notice(therapist)]
    with translation.override("sv"):
        assert str(Event.ROLE_CHANGED.label) in notices(told)[0]
    assert notices(again) == []
