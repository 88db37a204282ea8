"""System checks: every URL needs an access rule; `check --database` must reach the database."""

from django.core.checks import Error, Tags, register
from django.db import connections

from kast.access import undeclared_urls


@register()
def every_url_has_an_access_rule(app_configs, **kwargs):
    return [
        Error(
            f"URL {url} has no access rule.",
            hint="Add its name to URL_RULES in kast/access.py (or PUBLIC, if it truly is).",
            id="kast.E001",
        )
        for url in undeclared_urls()
    ]


@register(Tags.database)
def database_is_reachable(app_configs, databases=None, **kwargs):
    # PostgreSQL's own checks never connect, so `check --database default` passed with the
    # server down. Connecting here raises OperationalError, which manage.py turns into one line.
    for alias in databases or ():
        connections[alias].ensure_connection()
    return []
