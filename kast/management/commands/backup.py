"""`manage.py backup`: pg_dump of the configured database (custom format), its SHA-256 and a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kast.backup import BackupError, backup
from kast.db_roles import OWNER_ALIAS


class Command(BaseCommand):
    help = (
        "Dump the database into var/backups/ (or --dir): kast-<time>.dump (pg_dump custom format), "
        ".dump.sha256 and a .json manifest with every table's row count. The files hold every client "
        "record: they are readable by their owner only; move them to encrypted storage."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=Path(settings.BASE_DIR) / "var" / "backups")

    def handle(self, *args: Any, dir: Path, **options: Any) -> None:
        try:
            # As the owner of the tables (DATABASE_OWNER_URL), as all maintenance runs.
            result = backup(dir, using=OWNER_ALIAS)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{result.dump} ({result.dump.stat().st_size} bytes, {len(result.tables)} tables, "
            f"{sum(result.tables.values())} rows)\nsha256 {result.sha256}"
        )
