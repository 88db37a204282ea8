"""Local development: `make run`. DEBUG on, a throwaway secret key unless one is set."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-never-used-in-production")
os.environ.setdefault("OTP_SECRETS_KEY", "vakMBOYprERGIkM1Y1ovHtKB0OGhnIQFbiA5HLG5O1Q=")  # dev only, not secret

from kast.settings.base import *  # noqa: F403
from kast.settings.base import INSTALLED_APPS

# The demo data and the load test (`seed_demo`, `bench`): development only, never in production settings.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]
