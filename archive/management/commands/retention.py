"""`manage.py retention`: remove the records whose retention time has run out ("gallring", SoL 12 kap. 1 §).

The rule: a record whose last entry falls in calendar year Y is removed from 1 January of year Y + 6,
i.e. once five full calendar years have passed after the year of the last entry. Five years after the
entry have then always passed, and the removal comes well before the end of the following calendar
year, as the law asks. "Last entry" is the latest date of anything written on the record or recorded in
it (archive.selectors.last_entry lists what counts: sessions, notes, addenda, status changes,
questionnaires, follow-ups, a relative's reactions, goals and links, ...; never a mere read).

Without --apply it is a dry run: every removal is carried out and rolled back, so the figures printed
are exactly what --apply would remove. Records under a retention hold (set by an administrator in the
admin site) are listed as held and kept. It runs as the owner of the tables (DATABASE_OWNER_URL), the only
role that may delete what it deletes. Output, the log line and the RemovalRecord hold the record's
code and row counts only. Run it at least once a year, early in January (running it more often is
harmless: a record goes as soon as it is due).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import ProtectedError
from django.utils import timezone

from archive.selectors import records_due, retention_cutoff
from archive.services import NotDue, record_remove
from kast.db_roles import owner_connection


class Command(BaseCommand):
    help = (
        "Remove client and relative records whose last entry is more than five full calendar years old "
        "(SoL 12 kap. 1 §). A dry run unless --apply is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Remove the records (without it: a dry run).")

    def handle(self, *args, apply: bool = False, **options):
        # A removal deletes signed notes, addenda and history rows: only the owner of the tables may (kast.db_roles).
        with owner_connection():
            self._retention(apply=apply)

    def _retention(self, *, apply: bool) -> None:
        today = timezone.localdate()
        cutoff = retention_cutoff(today)
        verb = "Removed" if apply else "Would remove"
        self.stdout.write(
            f"Retention on {today}: records whose last entry is before {cutoff}. "
            + ("Removing." if apply else "Dry run: nothing is removed (use --apply).")
        )
        removed = held = skipped = rows = 0
        failed: list[str] = []
        for due in records_due(today):
            if due.held:
                held += 1
                self.stdout.write(
                    f"Held: {due.code} ({due.kind}, last entry {due.last_entry}), "
                    f"hold placed {due.hold.placed_at:%Y-%m-%d} by {due.hold.placed_by.get_username()}"
                )
                continue
            try:
                removal = record_remove(record_id=due.id, today=today, dry_run=not apply)
            except NotDue:
                skipped += 1
                self.stdout.write(f"Kept: {due.code} (a new entry or a hold since it was listed)")
                continue
            except ProtectedError as error:
                # Something outside the record still points at it: nothing of it is removed; look into it.
                failed.append(due.code)
                kinds = sorted({obj._meta.label for obj in error.protected_objects})
                self.stderr.write(f"Not removed: {due.code}: still referred to by {', '.join(kinds)}")
                continue
            removed += 1
            rows += removal.total
            counts = ", ".join(f"{label} {n}" for label, n in sorted(removal.counts.items()))
            kept = f"; {removal.joint_sessions_kept} joint sessions kept for other participants" * bool(
                removal.joint_sessions_kept
            )
            self.stdout.write(
                f"{verb}: {removal.code} ({removal.kind}, last entry {removal.last_entry}): {counts}{kept}"
            )
        self.stdout.write(
            f"{verb} {removed} records ({rows} rows); {held} held"
            + (f"; {skipped} kept after a new entry or hold" if skipped else "")
            + "."
        )
        if failed:
            raise CommandError(f"{len(failed)} records could not be removed: {', '.join(failed)}")
