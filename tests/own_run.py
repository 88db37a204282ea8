"""A pytest of its own, in a subprocess, for a test about the test run itself (what a run reports, how it ends)."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def run_pytest(
    *args: str, environment: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess:
    """`python -m pytest *args` with the suite's settings (pyproject.toml) and modules importable, and none of this
    run's own PYTEST_ADDOPTS; `environment` adds to the environment."""
    env = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR), **(environment or {})}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(settings.BASE_DIR / "pyproject.toml"), *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
