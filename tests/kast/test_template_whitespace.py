"""Text shown with its line breaks kept (`text-prewrap`) must not gain the template's own whitespace.

Inside such an element every newline and indent of the template shows as a blank line or a gap before
the therapist's text, so its content is written on the opening tag's line, up to the closing tag.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREWRAP = re.compile(r"<(\w+)[^>]*\btext-prewrap\b[^>]*>(.*?)</\1>", re.DOTALL)


def templates() -> list[Path]:
    return sorted(p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts)


def test_the_templates_are_found():
    assert len(templates()) > 50


def test_text_kept_with_its_line_breaks_starts_and_ends_at_the_tags():
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)[:80]!r}"
        for path in templates()
        for match in PREWRAP.finditer(path.read_text())
        if match.group(2) != match.group(2).strip()
    ]
    assert offenders == []
