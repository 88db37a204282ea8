"""The sv and en catalogues are complete and current, and the user's language choice is honoured."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from kast import embedded_db

LOCALES = ["sv", "en"]
# What makemessages needs from the project: our own apps (every INSTALLED_APPS entry that is a folder of the
# project, so a new app is never left out), the shared templates, manage.py and the catalogues.
# .venv, var and tests stay behind.
SOURCE_PARTS = [
    *sorted(
        {
            entry.split(".")[0]
            for entry in settings.INSTALLED_APPS
            if (Path(settings.BASE_DIR) / entry.split(".")[0]).is_dir()
        }
    ),
    "templates",
    "manage.py",
    "locale",
]
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def catalogue(locale: str) -> polib.POFile:
    return polib.pofile(str(Path(settings.BASE_DIR) / "locale" / locale / "LC_MESSAGES" / "django.po"))


def live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def is_translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_no_untranslated_entry(locale):
    missing = [entry.msgid for entry in live_entries(catalogue(locale)) if not is_translated(entry)]
    assert missing == [], f"untranslated in locale/{locale}: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_has_no_fuzzy_entry(locale):
    fuzzy = [entry.msgid for entry in live_entries(catalogue(locale)) if "fuzzy" in entry.flags]
    assert fuzzy == [], f"fuzzy in locale/{locale}: {fuzzy}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_their_msgid(locale):
    """A renamed or dropped %(name)s raises KeyError, or loses a value, when the page renders."""
    wrong = []
    for entry in live_entries(catalogue(locale)):
        if entry.msgid_plural:
            pairs = [(entry.msgid if n == 0 else entry.msgid_plural, s) for n, s in entry.msgstr_plural.items()]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        wrong += [msgid for msgid, msgstr in pairs if placeholders(msgstr) != placeholders(msgid)]
    assert wrong == [], f"placeholders differ from the msgid in locale/{locale}: {wrong}"


def test_sv_and_en_catalogues_hold_the_same_msgids():
    sv = {entry.msgid for entry in live_entries(catalogue("sv"))}
    en = {entry.msgid for entry in live_entries(catalogue("en"))}
    assert (sorted(sv - en), sorted(en - sv)) == ([], []), "(only in sv, only in en): run `make messages`"


def database_url() -> str:
    # The copy has no var/pgdata of its own, so name the running database explicitly.
    if "DATABASE_URL" in os.environ:
        return os.environ["DATABASE_URL"]
    db = embedded_db.database_settings()
    assert db is not None, "the embedded PostgreSQL is not running: `make db`"
    return f"postgres://{db['USER']}@/{db['NAME']}?{urlencode({'host': db['HOST']})}"


@pytest.fixture(scope="module")
def regenerated_sv(tmp_path_factory):
    """The sv catalogue as `makemessages` writes it from today's source, in a copy of the project."""
    if shutil.which("xgettext") is None:
        pytest.skip("makemessages needs GNU gettext (xgettext); install the gettext package")
    root = tmp_path_factory.mktemp("project")
    base = Path(settings.BASE_DIR)
    for part in SOURCE_PARTS:
        if (base / part).is_dir():
            shutil.copytree(base / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(base / part, root / part)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kast.settings.test", "DATABASE_URL": database_url()}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "sv", "--ignore", "tests/*", "--no-obsolete"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return polib.pofile(str(root / "locale" / "sv" / "LC_MESSAGES" / "django.po"))


def test_every_source_string_is_translated_in_the_sv_catalogue(regenerated_sv):
    repo = {entry.msgid: entry for entry in live_entries(catalogue("sv"))}
    source = [entry.msgid for entry in live_entries(regenerated_sv)]
    assert len(source) > 50  # the regeneration found the project's strings, not an empty tree
    missing = [msgid for msgid in source if msgid not in repo or not is_translated(repo[msgid])]
    assert missing == [], f"missing from locale/sv or untranslated (run `make messages`): {missing}"


def test_sv_catalogue_has_no_string_the_source_no_longer_uses(regenerated_sv):
    source = {entry.msgid for entry in live_entries(regenerated_sv)}
    stale = [entry.msgid for entry in live_entries(catalogue("sv")) if entry.msgid not in source]
    assert stale == [], f"in locale/sv but gone from the source (run `make messages`): {stale}"


def test_login_page_is_in_english_when_the_user_asks_for_english(client, db):
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})

    content = client.get(reverse("login")).content.decode()

    assert '<html lang="en">' in content
    assert "<h1>Log in</h1>" in content
    assert "Logga in" not in content


def test_an_english_browser_still_gets_swedish_until_the_user_switches(client, db):
    """Swedish first: a clinic PC set up in English does not decide the language; the user does."""
    content = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    assert '<html lang="sv">' in content
    assert "<h1>Logga in</h1>" in content


def test_login_page_is_in_swedish_by_default(client, db):
    content = client.get(reverse("login")).content.decode()

    assert '<html lang="sv">' in content
    assert "<h1>Logga in</h1>" in content
    assert "Log in" not in content


def test_set_language_switches_the_start_page_to_english(client, therapist):
    client.force_login(therapist)
    assert "Välkommen, Anna" in client.get(reverse("home")).content.decode()

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    content = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in content
    assert "Welcome, Anna" in content
    assert "Välkommen" not in content
