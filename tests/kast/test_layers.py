"""The apps' layers (docs/architecture.md; the contracts are pyproject.toml's [tool.importlinter]): kast imports
none of the apps above it, the records none of figures, nothing the demo data. `make lint` runs the same check."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports run in `cwd` (which must hold pyproject.toml and the packages), without its cache."""
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_layers_are_kept():
    result = lint_imports(BASE_DIR)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        # The ground floor reaching up to the figures (as kast.views once did for the dashboard).
        ("kast/upward.py", "from figures import statistics\n", "kast.upward -> figures.statistics"),
        # A function-level import counts too.
        ("kast/later.py", "def f():\n    from clients.models import Client\n", "kast.later -> clients.models"),
        # A record app reaching up to the figures.
        ("clients/upward.py", "import figures.suppression\n", "clients.upward -> figures.suppression"),
        # A product app importing the demo data.
        ("sessions/seeded.py", "import demo.data\n", "sessions.seeded -> demo"),
    ],
)
def test_a_wrong_import_breaks_a_contract(tmp_path, module, source, broken):
    """The check is not vacuous: the same contracts fail on a copy of the project with one wrong import added."""
    config = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        shutil.copytree(BASE_DIR / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.html"))
    shutil.copy2(BASE_DIR / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(source)

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Broken contracts" in result.stdout
    assert broken in " ".join(result.stdout.split()), result.stdout
