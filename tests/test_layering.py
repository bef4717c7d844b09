"""Imports only point down the layer picture, and importing a module has no side effects."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "crm_core", "retrieval", "schedules")
PLATFORM_LIBS = ("slack_bolt", "slack_sdk", "telegram")

# package -> top-level modules it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "handlers": ("bot", *PLATFORM_LIBS),
    "crm_core": ("handlers", "bot", *PLATFORM_LIBS),
    "retrieval": ("handlers", "bot", *PLATFORM_LIBS),
    "schedules": ("handlers", "bot", *PLATFORM_LIBS),
    "bot": (),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> Iterator[str]:
    """Absolute names of every module `source` imports, including relative and dynamic imports."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                name = f"{prefix}.{node.module}" if node.module else prefix
            else:
                name = node.module or ""
            yield name
            yield from (f"{name}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (
                    isinstance(node.func, ast.Name)
                    and node.func.id in ("__import__", "import_module")
                )
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            yield node.args[0].value


def _top(name: str) -> str:
    return name.split(".")[0]


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_the_checker_sees_every_kind_of_import() -> None:
    """The import scanner finds plain, from, relative, nested and dynamic imports."""
    source = textwrap.dedent(
        """
        import slack_sdk.web
        from telegram import Bot
        from . import sibling
        from ..bot import console

        def later():
            import slack_bolt
            importlib.import_module("bot.cli")
            __import__("handlers")
        """
    )
    found = set(imported_modules(source, "crm_core.services.deals"))
    assert {
        "slack_sdk.web",
        "telegram",
        "crm_core.services.sibling",
        "crm_core.bot.console",
        "slack_bolt",
        "bot.cli",
        "handlers",
    } <= found
    assert "crm_core.services" in set(
        imported_modules("from . import x", "crm_core.services", is_package=True)
    )


def test_every_package_is_scanned() -> None:
    """The scan covers real files in each layer (a wrong root would pass vacuously)."""
    found = {_top(_module_name(p)) for p in _sources()}
    assert found == set(PACKAGES)
    assert len(_sources()) > 20


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    """No module imports a layer above it, and only bot/ touches a platform library."""
    module = _module_name(path)
    forbidden = FORBIDDEN[_top(module)]
    source = path.read_text(encoding="utf-8")
    bad = sorted(
        {
            name
            for name in imported_modules(source, module, is_package=path.name == "__init__.py")
            if _top(name) in forbidden
        }
    )
    assert not bad, f"{module} imports {bad}: see the layer picture in DESIGN.md"


IMPORT_PROBE = """
import sys
import sqlalchemy
import sqlalchemy.engine


def refuse(*args, **kwargs):
    raise AssertionError("an engine was created at import time")


sqlalchemy.create_engine = refuse
sqlalchemy.engine.create_engine = refuse

import crm_core.settings

calls = []
original_init = crm_core.settings.Settings.__init__


def spy(self, *args, **kwargs):
    calls.append(1)
    original_init(self, *args, **kwargs)


crm_core.settings.Settings.__init__ = spy

import importlib
import pkgutil

import bot.bootstrap
import bot.cli
import crm_core.models
import handlers.verbs

for package in ("bot", "handlers", "crm_core", "retrieval", "schedules"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if not info.name.startswith("crm_core.migrations"):
            importlib.import_module(info.name)

assert not calls, "Settings() was built at import time"
ours = [m for m in sys.modules if m.split(".")[0] in ("bot", "handlers", "crm_core")]
print("imported", len(ours))
"""


def test_importing_has_no_side_effects(tmp_path: Path) -> None:
    """Importing the code reads no settings, creates no engine and touches no data directory."""
    env = dict(os.environ)
    env["CRMBOT_DATABASE_URL"] = "not-a-database://::nonsense"
    env["CRMBOT_DATA_DIR"] = str(tmp_path / "must-not-exist")
    env["CRMBOT_STAGES"] = "garbage"
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("imported ")
    assert not (tmp_path / "must-not-exist").exists()
    assert list(tmp_path.iterdir()) == []
