"""The demo app is development-only: production settings never install it, no product module imports it or Faker
(a development dependency, requirements/dev.txt), and production settings pass their checks where neither exists."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.kast.test_deploy_check import manage, production

#: Top-level modules only development may import.
DEVELOPMENT_ONLY = ("demo", "faker")
#: What is not the product: the demo app itself, the tests (factories use Faker), and migrations (frozen history).
NOT_THE_PRODUCT = {"demo", "tests"}
#: The product's parts the scan must reach, so a scan of the wrong folder cannot pass by finding nothing.
PRODUCT = ("manage.py", "kast", "clients", "sessions", "assessments", "relatives", "audit", "archive")


def python_files(root: Path) -> list[Path]:
    """Every .py file of the project below `root`, outside NOT_THE_PRODUCT and migrations (virtualenvs, var and
    hidden folders are not the project's)."""
    found = []
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith((".", "__"))
            and name not in {"migrations", "var", "node_modules"}
            and not (here == root and name in NOT_THE_PRODUCT)
            and not (here / name / "pyvenv.cfg").exists()
        )
        found += [here / name for name in sorted(files) if name.endswith(".py")]
    return found


def development_imports(path: Path) -> list[str]:
    """`path:line module` for each import of a DEVELOPMENT_ONLY module (import, from-import, import_module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        else:
            continue
        found += [f"{path}:{node.lineno} {name}" for name in names if name.split(".")[0] in DEVELOPMENT_ONLY]
    return found


def test_no_product_module_imports_demo_or_faker():
    """Checked to fail: with `import faker` added to kast/views.py, and `from demo.clients import DEMO_SEED` inside a
    function of clients/services.py, this test failed and named both lines; without them it passes.
    test_the_scan_finds_every_kind_of_development_import below keeps that so."""
    root = Path(settings.BASE_DIR)
    files = python_files(root)
    scanned = {path.relative_to(root).parts[0] for path in files}
    assert set(PRODUCT) <= scanned, f"the scan missed part of the product: {sorted(set(PRODUCT) - scanned)}"
    assert not scanned & NOT_THE_PRODUCT

    found = [line for path in files for line in development_imports(path)]

    assert found == [], "the product imports development-only code (move it to demo/):\n" + "\n".join(found)


def test_the_scan_finds_every_kind_of_development_import(tmp_path):
    """The scan above is not blind: every way of importing demo or faker, in a product app's module, nested or not."""
    product = tmp_path / "clients"
    (product / "migrations").mkdir(parents=True)
    (product / "services.py").write_text(
        "import os\n"
        "import faker\n"
        "from faker import Faker\n"
        "import demo.clients as seeds\n"
        "from demo import clients\n"
        "from demographics import census  # another package: allowed\n"
        "from . import demo  # a module of clients, not the demo app\n"
        "\n"
        "\n"
        "def seed():\n"
        "    from demo.clients import DEMO_SEED\n"
        "\n"
        "    importlib.import_module('demo.sessions')\n"
        "    return __import__('faker')\n"
    )
    (product / "migrations" / "0002_seed.py").write_text("from faker import Faker\n")
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "clients.py").write_text("from faker import Faker\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "factories.py").write_text("import faker\n")

    files = python_files(tmp_path)
    found = [line.split(" ", 1)[1] for path in files for line in development_imports(path)]

    assert files == [product / "services.py"]
    assert found == ["faker", "faker", "demo.clients", "demo", "demo.clients", "demo.sessions", "faker"]


INSTALLED = "from django.apps import apps; import json; print(json.dumps([app.name for app in apps.get_app_configs()]))"


def test_production_settings_do_not_install_the_demo_app():
    result = manage("shell", "--no-imports", "-c", INSTALLED, **production())

    assert result.returncode == 0, result.stderr
    installed = json.loads(result.stdout)
    assert "kast" in installed
    assert [name for name in installed if name.split(".")[0] == "demo"] == []


def test_development_and_test_settings_install_the_demo_app():
    """`make run` (seed_demo) and `make bench` need it; manage.py's default settings are the development ones."""
    environment = {**os.environ}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", INSTALLED],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "demo" in json.loads(result.stdout)
    assert "demo" in settings.INSTALLED_APPS


#: Run at the start of every Python process that has its folder on PYTHONPATH: demo and faker cannot be imported.
SITECUSTOMIZE = f"""\
import sys


class RefuseDevelopmentOnly:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {DEVELOPMENT_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (development only, refused)", name=name)
        return None


sys.meta_path.insert(0, RefuseDevelopmentOnly())
"""


@pytest.fixture
def without_development_only(tmp_path) -> dict[str, str]:
    """PYTHONPATH for a child process in which importing demo or faker fails, as on a production server."""
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}


@pytest.mark.parametrize("module", ["faker", "demo", "demo.apps"])
def test_the_child_process_cannot_import_development_only_modules(without_development_only, module):
    """The refusal below is real: these import here (this process has them), and not in the child."""
    check = f"import {module}"
    here = subprocess.run([sys.executable, "-c", check], cwd=settings.BASE_DIR, capture_output=True, text=True)
    refused = subprocess.run(
        [sys.executable, "-c", check],
        cwd=settings.BASE_DIR,
        env={**os.environ, **without_development_only},
        capture_output=True,
        text=True,
    )

    assert here.returncode == 0, here.stderr
    assert refused.returncode == 1
    assert "(development only, refused)" in refused.stderr


def test_production_settings_pass_the_deployment_checklist_without_demo_or_faker(without_development_only):
    """Every app, model, admin, URL and view that production settings load, loaded where Faker is not installed
    and demo/ is not there to import. Checked to fail: with `import faker` added to kast/views.py it stopped at
    kast.admin's import of kast.views with "No module named 'faker' (development only, refused)"."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        "--settings=kast.settings.production",
        **production(**without_development_only),
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
