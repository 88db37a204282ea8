"""`manage.py restore_drill`: restore a backup into a new database and prove it is whole, then drop it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kast.backup import BackupError, latest_dump, restore_drill
from kast.db_roles import OWNER_ALIAS


class Command(BaseCommand):
    help = (
        "Check a backup's checksum, restore it into a new database on the same server, run "
        "`migrate --check` against it, compare every table's row count with the manifest and read "
        "back the canary; then drop the database. Without a file, the newest in var/backups/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dump", nargs="?", type=Path, help="a .dump written by `manage.py backup`")
        parser.add_argument("--keep", action="store_true", help="keep the restored database (it is named below)")

    def handle(self, *args: Any, dump: Path | None, keep: bool, **options: Any) -> None:
        try:
            dump = dump or latest_dump(Path(settings.BASE_DIR) / "var" / "backups")
            # As the owner of the tables (DATABASE_OWNER_URL): it creates and drops the drill's database.
            result = restore_drill(dump, using=OWNER_ALIAS, keep=keep)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Restore drill passed for {dump.name}: checksum, migrations, {result.tables} tables with "
            f"{result.rows} rows as in the manifest, canary access-log row {result.canary_id or '(none: empty log)'}."
            + (f"\nKept database: {result.database}" if keep else "")
        )
