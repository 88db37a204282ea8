"""The types (pyproject.toml's [tool.mypy]): mypy with the Django plugin passes over the whole project, strict for
kast, figures, start and every app's services and selectors. `make lint` runs the same check."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def test_strict_is_per_module():
    """`strict = true` in an override section turns strict mode on for the whole project (mypy reads it as the
    global flag): the strict modules list the per-module strict flags instead."""
    config = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["tool"]["mypy"]
    assert "strict" not in config
    strict = [override for override in config["overrides"] if override.get("disallow_untyped_defs")]
    assert strict, "no strict override"
    assert all("strict" not in override for override in config["overrides"])
    assert {"kast.*", "figures.*", "start.*", "*.services", "*.selectors"} <= set(strict[0]["module"])


def test_the_types_check():
    pytest.importorskip("mypy")
    pytest.importorskip("mypy_django_plugin")
    # The plugin loads the settings but never connects: a placeholder DATABASE_URL will do, as in `make lint`.
    environment = {**os.environ, "DATABASE_URL": "postgres://mypy@127.0.0.1:5432/mypy"}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "."],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert result.returncode == 0, result.stdout[-20000:] + result.stderr
    assert "Success: no issues found" in result.stdout
