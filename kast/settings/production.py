"""Production: DEBUG off, HTTPS only; SECRET_KEY, ALLOWED_HOSTS, TRUSTED_PROXY_COUNT required from the environment;
never served as a superuser or as the owner of the tables."""

import os

from django.core.exceptions import ImproperlyConfigured

os.environ["DEBUG"] = "false"

from kast.settings.base import *  # noqa: F403
from kast.settings.base import env

# The login lockout and throttle, the access log and the login log all stand on the client's address; a wrong
# count of proxies makes it the proxy's (one address for everyone) or the client's own word. Say it, even if 0
# (os.environ includes .env by now: base.py has read it).
if "TRUSTED_PROXY_COUNT" not in os.environ:
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT is not set: set it to the number of reverse proxies in front of the app that append "
        "to X-Forwarded-For (0 if none)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# The app serves as a role that is neither a superuser nor the owner of the tables (DATABASE_URL); migrations
# run as the owner (DATABASE_OWNER_URL). Every new connection is checked, and a worker checks once at its start
# (kast.wsgi): a privileged DATABASE_URL stops it (kast.db_roles.refuse_privileged_runtime).
DATABASE_REFUSE_PRIVILEGED_RUNTIME = True

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
}

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Behind the municipality's reverse proxy, which terminates TLS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
