"""Settings shared by every environment; all machine-specific values come from the environment or .env."""

from __future__ import annotations

import base64
import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kast import db_roles, embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _embedded(user: str) -> dict[str, Any]:
    embedded = embedded_db.database_settings(user)
    if embedded is None:
        raise ImproperlyConfigured(
            "No database: set DATABASE_URL (e.g. postgres://user@127.0.0.1:5432/kast) "
            "or start the embedded PostgreSQL with `make db`."
        )
    return embedded


def _databases() -> dict[str, dict[str, Any]]:
    """`default`: the runtime role the app serves as; `owner`: the owner of the tables, for migrations and the
    maintenance that must delete (kast.db_roles). Without DATABASE_OWNER_URL one connection is both: for a
    developer's own server only (production settings refuse a connection that owns the tables)."""
    if "DATABASE_URL" not in env:
        return {"default": _embedded(db_roles.RUNTIME_ROLE), db_roles.OWNER_ALIAS: _embedded(db_roles.OWNER_ROLE)}
    runtime = env.db_url("DATABASE_URL")
    if "DATABASE_OWNER_URL" not in env:
        return {"default": runtime, db_roles.OWNER_ALIAS: copy.deepcopy(runtime)}
    owner = env.db_url("DATABASE_OWNER_URL")
    if owner["NAME"] != runtime["NAME"]:
        raise ImproperlyConfigured("DATABASE_OWNER_URL must name the same database as DATABASE_URL.")
    return {"default": runtime, db_roles.OWNER_ALIAS: owner}


DATABASES = _databases()
for _database in DATABASES.values():
    if not _database["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("DATABASE_URL and DATABASE_OWNER_URL must point to PostgreSQL (postgres://...).")
    # Persistent connections: with psycopg2 they give most of what a pool gives
    # (measured about 2.6x the throughput of CONN_MAX_AGE=0).
    _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _database["CONN_HEALTH_CHECKS"] = True
#: The role the app serves as; `manage.py migrate` grants it what it needs afresh (kast.db_roles.after_migrate).
DATABASE_RUNTIME_ROLE = DATABASES["default"]["USER"]
#: Production settings refuse a `default` connection that is a superuser or owns the tables.
DATABASE_REFUSE_PRIVILEGED_RUNTIME = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "kast",
    "clients",
    "sessions.apps.TherapySessionsConfig",
    "assessments",
    "relatives",
    "advice",
    # Group programmes: a roster of clients' and relatives' records, meetings, attendance, notes split by the wall.
    "groups",
    "archive",
    "audit",
    # Beside the records, holding none: the clinic's outreach and attitude work.
    "outreach",
    # Above the apps of records: the figures read them all, the start page shows some of each.
    "figures",
    "start",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "pgtrigger",
    "pghistory",
    "csp",
    # Login: TOTP devices and backup codes (django-otp), the login and setup wizards (two_factor), lockout (axes).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "two_factor",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything below, so redirects, refusals and error pages get it too (static files do not).
    "kast.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kast.middleware.SwedishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second factor (AccessPolicyMiddleware asks).
    "django_otp.middleware.OTPMiddleware",
    # request.actor (who acts, from where) for the services and the access log; built at its first use.
    "kast.middleware.ActorMiddleware",
    "kast.middleware.IdleTimeoutMiddleware",
    # Deny by default: login required everywhere, then the role table in kast/access.py.
    "kast.middleware.AccessPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Last, as axes requires: turns a locked-out login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kast.urls"
WSGI_APPLICATION = "kast.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kast.context_processors.navigation",
            ],
        },
    },
]

AUTH_USER_MODEL = "kast.User"
# Axes first: it refuses a locked-out username or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "kast.auth.StaffBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 for new and changed passwords; older PBKDF2 hashes still verify and are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# Two factors for every account: password, then a TOTP code from an authenticator app (or a one-time
# backup code). No SMS or phone method is installed. kast.middleware.AccessPolicyMiddleware sends a
# session that has only passed the password to the second factor (or to its setup) from every other page.
TWO_FACTOR_PATCH_ADMIN = False  # the admin site is behind the same middleware; no monkeypatching
TWO_FACTOR_REMEMBER_COOKIE_AGE = None  # never skip the second factor on a "remembered" computer
TWO_FACTOR_LOGIN_TIMEOUT = 600  # seconds between the password and the code
OTP_TOTP_ISSUER = env.str("SITE_NAME", default="KAST")
# An administrator can remove a lost authenticator (the user sets up a new one at the next login),
# but never read its key, add a device or set a password (kast.admin: a reset the user completes).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Second-factor secrets at rest (kast.otp_secrets): TOTP keys encrypted, backup codes hashed, with this key;
# 32 random bytes in URL-safe base64. Keep it apart from the database and its backups. A comma-separated
# list rotates it: the first encrypts, all decrypt.
OTP_SECRETS_KEYS = [key.strip() for key in env.list("OTP_SECRETS_KEY", default=[]) if key.strip()]


def _secrets_key_valid(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except ValueError:
        return False


if not OTP_SECRETS_KEYS or not all(_secrets_key_valid(key) for key in OTP_SECRETS_KEYS):
    raise ImproperlyConfigured(
        "OTP_SECRETS_KEY must be set to 32 random bytes in URL-safe base64 (a comma-separated list to rotate), e.g. "
        'the output of: python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
    )

# A password reset an administrator starts: the one-time link works this long (and once).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_MINUTES", default=60) * 60

# Lockout (django-axes): after LOGIN_FAILURE_LIMIT failed passwords for one username from one address, that
# username is locked at that address for LOGIN_LOCKOUT_MINUTES (the same user elsewhere, and everyone else behind
# the address, can still log in); an administrator can unlock sooner (Staff: "Unlock login").
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# A whole clinic shares one address behind its NAT, so an address is slowed down, never locked
# (kast.login_throttle): past LOGIN_ADDRESS_FREE_FAILURES failures from it, on any usernames, each further
# failure doubles the wait before the next password is heard, from 1 second up to LOGIN_ADDRESS_MAX_DELAY_SECONDS;
# LOGIN_LOCKOUT_MINUTES without a failure from the address starts it afresh.
LOGIN_ADDRESS_FREE_FAILURES = env.int("LOGIN_ADDRESS_FREE_FAILURES", default=10)
LOGIN_ADDRESS_MAX_DELAY_SECONDS = env.int("LOGIN_ADDRESS_MAX_DELAY_SECONDS", default=300)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kast.views.locked_out"
# The address comes from kast.actor.client_ip, the same as in the access log (TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "kast.actor.client_ip"
# Successful logins and logouts go to kast.LoginEvent, which is append-only; axes keeps only the counters.
AXES_DISABLE_ACCESS_LOG = True
# The login wizard prefixes its fields with the step ("auth-password"): name it, or axes would store the
# password of a failed attempt in clear text with the attempt's POST data.
AXES_PASSWORD_FORM_FIELD = "auth-password"  # noqa: S105  (a field name, not a password)
AXES_SENSITIVE_PARAMETERS = ["username", "auth-username", "token-otp_token", "backup-otp_token"]

# Reverse proxies in front of the app that append to X-Forwarded-For (0: the header is ignored, the
# address is REMOTE_ADDR). With N, the client is the N-th address from the right; anything further left
# was written by the client. Used by the access log, the login log and the lockout alike.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
# Django's sv locale also accepts US-style 03/04/2026 (read as 4 March); only ISO dates here.
FORMAT_MODULE_PATH = ["kast.formats"]
DATE_INPUT_FORMATS = ["%Y-%m-%d"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# A strict policy from day one: no inline script or style, nothing from other hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Idle sign-out (kast.middleware.IdleTimeoutMiddleware); the note page warns two minutes before
# and saves the draft. The same middleware ends a login SESSION_ABSOLUTE_HOURS after it began, however
# busy: Django's SESSION_COOKIE_AGE alone slides forward whenever the session is saved.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_MINUTES", default=20) * 60
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_HOURS", default=10) * 60 * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
CSRF_COOKIE_SAMESITE = "Lax"
# No script reads a cookie: the CSRF token comes from the form (static/js/note-autosave.js too).
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Client data must never reach an error report: every POST value and query string is masked.
DEFAULT_EXCEPTION_REPORTER_FILTER = "kast.logging.ConfidentialExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "kast.logging.ConfidentialExceptionReporter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # A query string can hold a search for a name; log the path only.
        "strip_query": {"()": "kast.logging.StripQueryStringFilter"},
        # PostgreSQL's DETAIL lines quote the values of a violated constraint (a personnummer, say).
        "mask_db_detail": {"()": "kast.logging.MaskDatabaseDetailFilter"},
    },
    "handlers": {
        # Every handler takes both filters.
        "console": {"class": "logging.StreamHandler", "filters": ["strip_query", "mask_db_detail"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # WeasyPrint narrates every layout step at INFO; only its warnings matter.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Axes narrates every login at INFO; its warnings (failures, lockouts) stay.
        "axes": {"level": "WARNING"},
    },
}

# Shown in the layout; a clinic's IT department can name its own installation.
SITE_NAME = env.str("SITE_NAME", default="KAST")

#: Seconds a PDF may take to lay out (kast.pdf): after that the layout is stopped and the user gets a page that
#: says so, well before a server's worker timeout (gunicorn's default is 30 s).
PDF_RENDER_TIMEOUT = env.float("PDF_RENDER_TIMEOUT", default=20.0)
if not 0 < PDF_RENDER_TIMEOUT <= 600:
    raise ImproperlyConfigured("PDF_RENDER_TIMEOUT must be a number of seconds above 0 and at most 600.")
