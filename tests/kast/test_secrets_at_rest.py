"""The second factor's secrets at rest (kast.otp_secrets): a TOTP key is stored encrypted and a backup code
hashed, with a key from the environment, and both still work; production refuses to start without the key."""

from __future__ import annotations

import base64
import importlib
import secrets
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client as Browser
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kast import otp_secrets
from tests.kast.test_deploy_check import dotenv_sets, manage
from tests.kast.test_two_factor import backup_step, code_step, password_step
from tests.otp import authenticator_for, current_code

pytestmark = pytest.mark.django_db

CLEAR_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, 20 bytes
OTHER_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def raw(table: str, column: str, pk: int) -> str:
    """The column as PostgreSQL holds it, past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def raw_key(device: TOTPDevice) -> str:
    return raw("otp_totp_totpdevice", "key", device.pk)


# TOTP keys


def test_a_totp_key_is_stored_encrypted_and_read_back_in_clear(therapist):
    device = TOTPDevice.objects.create(user=therapist, name="default", key=CLEAR_KEY)

    stored = raw_key(device)

    assert stored.startswith(otp_secrets.ENCRYPTED_PREFIX)
    assert CLEAR_KEY not in stored
    assert bytes.fromhex(CLEAR_KEY) not in base64.urlsafe_b64decode(stored[3:] + "==")
    assert len(stored) == 67 <= TOTPDevice._meta.get_field("key").max_length
    assert TOTPDevice.objects.get(pk=device.pk).key == CLEAR_KEY
    assert TOTPDevice.objects.values_list("key", flat=True).get() == CLEAR_KEY


def test_each_save_encrypts_afresh(therapist):
    device = TOTPDevice.objects.create(user=therapist, name="default", key=CLEAR_KEY)
    first = raw_key(device)

    device.save()

    assert raw_key(device) != first  # a fresh nonce: equal keys never look equal in the database
    assert otp_secrets.decrypt_key(raw_key(device)) == otp_secrets.decrypt_key(first) == CLEAR_KEY


def test_the_login_verifies_a_code_against_the_encrypted_key(client, therapist):
    device = authenticator_for(therapist)

    password_step(client, "anna")
    response = code_step(client, current_code(device))

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert raw_key(device).startswith(otp_secrets.ENCRYPTED_PREFIX)


def test_the_setup_wizard_stores_the_new_key_encrypted(client, therapist, password_only_login):
    password_only_login(client, therapist)
    key = client.post(reverse("two_factor:setup"), {"setup_view-current_step": "welcome"}).context["secret_key"]
    client.post(
        reverse("two_factor:setup"),
        {"setup_view-current_step": "generator", "generator-token": f"{totp(base64.b32decode(key)):06d}"},
    )

    device = TOTPDevice.objects.get(user=therapist)
    clear = base64.b32decode(key).hex()
    assert device.key == clear
    assert clear not in raw_key(device) and raw_key(device).startswith(otp_secrets.ENCRYPTED_PREFIX)


def test_without_the_key_a_stored_totp_key_cannot_be_read(therapist):
    device = TOTPDevice.objects.create(user=therapist, name="default", key=CLEAR_KEY)

    with override_settings(OTP_SECRETS_KEYS=[OTHER_KEY]), pytest.raises(ImproperlyConfigured):
        TOTPDevice.objects.get(pk=device.pk)


def test_a_rotated_key_still_reads_the_old_and_encrypts_with_the_new(settings, therapist):
    device = TOTPDevice.objects.create(user=therapist, name="default", key=CLEAR_KEY)
    old_key = settings.OTP_SECRETS_KEYS[0]

    with override_settings(OTP_SECRETS_KEYS=[OTHER_KEY, old_key]):
        read = TOTPDevice.objects.get(pk=device.pk)
        read.save()  # as a login's successful code does
    with override_settings(OTP_SECRETS_KEYS=[OTHER_KEY]):
        after = TOTPDevice.objects.get(pk=device.pk).key

    assert read.key == after == CLEAR_KEY


# Backup codes


def test_a_backup_code_is_stored_hashed_and_works_once(therapist):
    authenticator_for(therapist)
    device = StaticDevice.objects.create(user=therapist, name="backup")
    token = device.token_set.create(token="abcd2345")
    stored = raw("otp_static_statictoken", "token", token.pk)
    first, second = Browser(), Browser()
    password_step(first, "anna")
    password_step(second, "anna")

    wrong = backup_step(first, stored)  # the stored value itself is no code
    StaticDevice.objects.update(throttling_failure_count=0)  # django-otp's wait after a wrong code
    used = backup_step(first, "abcd2345")
    again = backup_step(second, "abcd2345")

    assert stored != "abcd2345" and len(stored) == 16
    assert stored == otp_secrets.hash_code("abcd2345")
    assert wrong.status_code == 200
    assert (used.status_code, used["Location"]) == (302, reverse("home"))
    assert again.status_code == 200
    assert not StaticToken.objects.exists()


def test_a_backup_code_read_from_the_database_is_not_hashed_again(therapist):
    device = StaticDevice.objects.create(user=therapist, name="backup")
    device.token_set.create(token="abcd2345")
    loaded = StaticToken.objects.get()

    loaded.save()

    assert device.verify_token("abcd2345")


# The migration of rows stored before


def test_the_migration_encrypts_and_hashes_what_was_stored_in_clear(therapist):
    device = TOTPDevice.objects.create(user=therapist, name="default", confirmed=True)
    backup = StaticDevice.objects.create(user=therapist, name="backup")
    token = backup.token_set.create(token="abcd2345")
    with connection.cursor() as cursor:  # as django-otp stored them before
        cursor.execute("UPDATE otp_totp_totpdevice SET key = %s WHERE id = %s", [CLEAR_KEY, device.pk])
        cursor.execute("UPDATE otp_static_statictoken SET token = 'abcd2345' WHERE id = %s", [token.pk])
    migration = importlib.import_module("kast.migrations.0009_account_changes_and_otp_secrets")

    migration.secrets_at_rest(None, SimpleNamespace(connection=connection))

    device = TOTPDevice.objects.get(pk=device.pk)
    assert raw_key(device).startswith(otp_secrets.ENCRYPTED_PREFIX)
    assert device.key == CLEAR_KEY
    assert device.verify_token(f"{totp(bytes.fromhex(CLEAR_KEY)):06d}")
    assert raw("otp_static_statictoken", "token", token.pk) == otp_secrets.hash_code("abcd2345")
    assert backup.verify_token("abcd2345")


# Production


@pytest.mark.parametrize("value", ["", "too-short", base64.urlsafe_b64encode(b"x" * 16).decode()])
def test_production_settings_refuse_to_start_without_a_valid_key(value):
    if dotenv_sets("OTP_SECRETS_KEY"):
        pytest.skip(".env sets OTP_SECRETS_KEY, so it cannot be missing here")

    result = manage(
        "check",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="kast.example.se",
        TRUSTED_PROXY_COUNT="0",
        OTP_SECRETS_KEY=value,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("kast: configuration error:")
    assert "OTP_SECRETS_KEY" in line
