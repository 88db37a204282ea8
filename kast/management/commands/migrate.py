"""`manage.py migrate` as the owner of the tables: Django's own command, through the owner's connection.

The default database alias is the runtime role's, which may create nothing; here it is the owner's for the
whole run (kast.db_roles.owner_connection), so data migrations that write through the default alias run as
the owner too. When it is done, kast.db_roles.after_migrate installs the guards and sets the runtime role's
grants afresh. `--database owner` works as well.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS

from kast.db_roles import owner_connection


class Command(migrate.Command):
    help = migrate.Command.help + " Runs as the owner of the tables (DATABASE_OWNER_URL; kast_owner when embedded)."

    def handle(self, *args: Any, **options: Any) -> str | None:
        if options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        with owner_connection():
            return super().handle(*args, **options)
