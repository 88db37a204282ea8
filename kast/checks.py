"""System checks: every URL needs an access rule; `check --database` must reach the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.checks import CheckMessage, Error, Tags, register
from django.db import connections

from kast.access import undeclared_urls

if TYPE_CHECKING:
    from django.apps import AppConfig


@register()
def every_url_has_an_access_rule(app_configs: Sequence[AppConfig] | None, **kwargs: object) -> list[CheckMessage]:
    return [
        Error(
            f"URL {url} has no access rule.",
            hint="Add its name to URL_RULES in kast/access.py (or PUBLIC, if it truly is).",
            id="kast.E001",
        )
        for url in undeclared_urls()
    ]


@register(Tags.database)
def database_is_reachable(
    app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None = None, **kwargs: object
) -> list[CheckMessage]:
    # PostgreSQL's own checks never connect, so `check --database default` passed with the
    # server down. Connecting here raises OperationalError, which manage.py turns into one line.
    for alias in databases or ():
        connections[alias].ensure_connection()
    return []
