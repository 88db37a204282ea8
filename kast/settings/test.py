"""The test suite: real PostgreSQL (DATABASE_URL or the embedded server), DEBUG off as in production."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")
os.environ["DEBUG"] = "false"

from kast.settings.base import *  # noqa: F403

# Hashing cost is not what the tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files straight from static/ (as in development), without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
