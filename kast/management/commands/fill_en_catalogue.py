"""Fill empty English translations with the msgid: the source strings are English already."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Copy each msgid into its empty msgstr in locale/en (run by `make messages`)."

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
        po = polib.pofile(str(path), wrapwidth=79)
        filled = 0
        for entry in po:
            if entry.obsolete:
                continue
            # A fuzzy English entry is a stale guess by gettext: the msgid itself is right.
            stale = "fuzzy" in entry.flags
            if stale:
                entry.flags.remove("fuzzy")
            if entry.msgid_plural and (stale or not any(entry.msgstr_plural.values())):
                entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
                filled += 1
            elif not entry.msgid_plural and (stale or not entry.msgstr):
                entry.msgstr = entry.msgid
                filled += 1
        po.save()
        self.stdout.write(f"locale/en: {filled} entries filled from their msgid.")
