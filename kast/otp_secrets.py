"""Second-factor secrets at rest: TOTP keys stored encrypted, backup codes stored hashed, keyed from the environment.

django-otp keeps an authenticator's key in clear hex (`otp_totp.TOTPDevice.key`) and each backup code in clear
(`otp_static.StaticToken.token`), so a database dump or a backup would hand out everyone's second factor. Those
models are django-otp's, and django-two-factor-auth's wizards create them directly; rather than fork the models,
`install()` (run by `KastConfig.ready`) gives those two columns the field classes below. On the way to the
database a key is encrypted (AES-GCM, a fresh nonce each save) and a code is hashed (HMAC-SHA256); in Python a
key reads back in clear, so the setup, the verification and the drift bookkeeping of both libraries work
unchanged, and a typed code is hashed by the same field before it is compared, so `token_set.filter(token=...)`
still finds it. The columns keep django-otp's types and lengths: no migration of django-otp's own tables.

The key material is `OTP_SECRETS_KEYS` (env `OTP_SECRETS_KEY`): 32 random bytes in URL-safe base64, never in the
database or its backups. A comma-separated list rotates it: the first key encrypts and hashes, every key
decrypts, and a device is re-encrypted with the first key at its next successful code. Backup codes hashed
under an earlier key no longer match (HMAC is one-way): after a rotation users make new backup codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    # django-otp's columns hold text (a hex key, a code); CharField is not subscriptable at run time.
    _TextField = models.CharField[str | None, str | None]
else:
    _TextField = models.CharField

#: What an encrypted key starts with (django-otp's clear keys are hex: they never do).
ENCRYPTED_PREFIX = "e1$"
#: AES-GCM: nonce and tag, around the key itself.
_NONCE_BYTES = 12
_TAG_BYTES = 16
#: The column is django-otp's varchar(80): the longest key whose encrypted form still fits (the wizards make 20).
MAX_KEY_BYTES = (80 - len(ENCRYPTED_PREFIX)) // 4 * 3 - _NONCE_BYTES - _TAG_BYTES
#: Binds a ciphertext to this use, so it cannot be moved into another encrypted field.
_ASSOCIATED_DATA = b"kast:otp_totp.totpdevice.key"
#: A stored backup code: the first 12 bytes of its HMAC in URL-safe base64, the 16 characters django-otp allows.
HASH_BYTES = 12


def _derive(master: bytes, purpose: bytes) -> bytes:
    # One key from the environment, separate keys for separate uses.
    return hmac.new(master, b"kast otp secrets: " + purpose, hashlib.sha256).digest()


@cache
def _keys() -> tuple[bytes, ...]:
    masters = []
    for text in settings.OTP_SECRETS_KEYS:
        try:
            master = base64.urlsafe_b64decode(text.encode())
        except ValueError:
            master = b""
        if len(master) != 32:
            raise ImproperlyConfigured("OTP_SECRETS_KEY: each key must be 32 random bytes in URL-safe base64.")
        masters.append(master)
    if not masters:
        raise ImproperlyConfigured("OTP_SECRETS_KEY is not set: TOTP keys and backup codes cannot be stored.")
    return tuple(masters)


def _aead(master: bytes) -> AESGCM:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(_derive(master, b"totp key encryption"))


def encrypt_key(hex_key: str) -> str:
    """A TOTP key (hex, as django-otp holds it) as stored: encrypted with the first key."""
    raw = bytes.fromhex(hex_key)
    if len(raw) > MAX_KEY_BYTES:
        raise ValueError(f"A TOTP key longer than {MAX_KEY_BYTES} bytes cannot be stored encrypted.")
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aead(_keys()[0]).encrypt(nonce, raw, _ASSOCIATED_DATA)
    return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decrypt_key(stored: str) -> str:
    """The hex key of a stored value. A clear value (a row from before encryption) is returned as it is."""
    if not stored.startswith(ENCRYPTED_PREFIX):
        return stored
    from cryptography.exceptions import InvalidTag

    data = stored.removeprefix(ENCRYPTED_PREFIX)
    blob = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
    for master in _keys():
        try:
            return _aead(master).decrypt(nonce, sealed, _ASSOCIATED_DATA).hex()
        except InvalidTag:
            continue
    raise ImproperlyConfigured("A stored TOTP key cannot be decrypted with any key in OTP_SECRETS_KEY.")


def hash_code(code: str) -> str:
    """A backup code as stored, and as a typed one is looked up: its HMAC under the first key."""
    digest = hmac.new(_derive(_keys()[0], b"backup code hashing"), code.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:HASH_BYTES]).decode()


class StoredHash(str):
    """A backup code as read from the database: already hashed, so saved again as it is."""


class EncryptedTOTPKeyField(_TextField):
    """django-otp's key column, encrypted in the database and clear hex in Python."""

    def from_db_value(self, value: str | None, expression: object, connection: BaseDatabaseWrapper) -> str | None:
        return value if value is None else decrypt_key(value)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None or value.startswith(ENCRYPTED_PREFIX):
            return value
        return encrypt_key(value)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        # The same column as django-otp declares: no migration for its app.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class HashedCodeField(_TextField):
    """django-otp's backup-code column, hashed on every way in: a saved code and a code looked up alike."""

    def from_db_value(self, value: str | None, expression: object, connection: BaseDatabaseWrapper) -> str | None:
        return value if value is None else StoredHash(value)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if isinstance(value, StoredHash):
            return str(value)
        value = super().get_db_prep_value(value, connection, prepared)
        return value if value is None else hash_code(value)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


def _keys_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "OTP_SECRETS_KEYS":
        _keys.cache_clear()


def install() -> None:
    """Give django-otp's two secret columns the field classes above (idempotent)."""
    from django.test.signals import setting_changed
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice._meta.get_field("key").__class__ = EncryptedTOTPKeyField
    StaticToken._meta.get_field("token").__class__ = HashedCodeField
    setting_changed.connect(_keys_changed, dispatch_uid="kast.otp_secrets")
