"""The test suite: real PostgreSQL (DATABASE_URL or the embedded server), DEBUG off as in production."""

import copy
import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")
os.environ.setdefault("OTP_SECRETS_KEY", "xDzs8dCDtOJzPZi_VSUQQqOqKaOEMwhaHfrVpf2m5EI=")  # test only, not secret
os.environ["DEBUG"] = "false"

from kast import db_roles, embedded_db
from kast.settings.base import *  # noqa: F403
from kast.settings.base import DATABASES, INSTALLED_APPS, env

# The demo data and the load test (`seed_demo`, `bench`) are tested too; production settings never install them.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

# The suite logs in as a superuser (DATABASE_URL must name one; the embedded server's `postgres`) and works as
# the runtime role the app uses, as Django's `assume_role` makes it (SET ROLE). tests/conftest.py creates both
# roles when missing and has the owner make, migrate and drop the test database; the owner's own work
# (retention, seed_demo) switches role with kast.db_roles.owner_connection, and a superuser empties the tables
# after a transactional test (TRUNCATE of the append-only tables is refused to everyone else). With
# DATABASE_OWNER_URL set (the restore drill's `migrate --check`) the two URLs are taken as they are.
if "DATABASE_OWNER_URL" not in env:
    _superuser = copy.deepcopy(DATABASES["default"])
    if "DATABASE_URL" not in env:
        _superuser["USER"] = embedded_db.SUPERUSER
    _superuser.setdefault("OPTIONS", {})
    DATABASES = {"default": copy.deepcopy(_superuser), db_roles.OWNER_ALIAS: copy.deepcopy(_superuser)}
    DATABASES["default"]["OPTIONS"]["assume_role"] = db_roles.RUNTIME_ROLE
    DATABASES[db_roles.OWNER_ALIAS]["OPTIONS"]["assume_role"] = db_roles.OWNER_ROLE
    DATABASES[db_roles.OWNER_ALIAS]["TEST"] = {"MIRROR": "default"}
    DATABASE_RUNTIME_ROLE = db_roles.RUNTIME_ROLE

# Hashing cost is not what the tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files straight from static/ (as in development), without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
