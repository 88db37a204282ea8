"""The test suite: real PostgreSQL (DATABASE_URL or the embedded server), DEBUG off as in production."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")
os.environ["DEBUG"] = "false"

from kast.settings.base import *  # noqa: E402,F403

# Hashing cost is not what the tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
