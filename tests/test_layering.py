"""The rules of DESIGN.md's layer picture, checked on the source: imports point down, each
platform library stays in its adapter, adapters only translate, no import cycles, and importing
a module has no side effects."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "crm_core", "retrieval", "schedules")

# The layer picture as data: which of our packages each package may import. bot (adapters and
# the composition root) sits on top; handlers under it; retrieval and schedules beside each other
# under handlers (handlers' `ask` queries retrieval; the scheduler is composed by bot); crm_core,
# the system of record, at the bottom: it imports none of the others.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "bot": frozenset({"handlers", "retrieval", "schedules", "crm_core"}),
    "handlers": frozenset({"retrieval", "schedules", "crm_core"}),
    "retrieval": frozenset({"crm_core"}),
    "schedules": frozenset({"crm_core"}),
    "crm_core": frozenset(),
}
# Each platform library, and the one adapter folder allowed to import it.
PLATFORM_HOME: dict[str, str] = {
    "slack_bolt": "bot.slack",
    "slack_sdk": "bot.slack",
    "telegram": "bot.telegram",
}
ADAPTERS = ("bot.slack", "bot.telegram", "bot.api")
# Adapters only translate: no SQL, no unit of work, no services or acting context of their own;
# they act as a person through handlers/gateway.py.
ADAPTER_FORBIDDEN: dict[str, str] = {
    "sqlalchemy": "SQLAlchemy in an adapter",
    "crm_core.db": "an adapter opening a database session",
    "crm_core.services": "an adapter calling services (the gateway does)",
    "crm_core.context": "an adapter building a Ctx (the gateway's acting_as does)",
    "crm_core.models": "an adapter reading records (the gateway hands out what it needs)",
}
# Violations of ADAPTER_FORBIDDEN allowed for now, named one by one (file, import); each entry
# must still be true, so this list only shrinks. Empty since the gateway (issue 12).
ADAPTER_ALLOWED_TODAY: frozenset[tuple[str, str]] = frozenset()
# Block Kit element types: Block Kit JSON lives only in bot/slack.
BLOCK_KIT_TYPES = frozenset(
    {
        "mrkdwn",
        "plain_text",
        "section",
        "actions",
        "divider",
        "header",
        "context",
        "static_select",
        "external_select",
        "plain_text_input",
        "datepicker",
        "modal",
    }
)


@dataclass(frozen=True)
class Import:
    """One import statement's target, as an absolute dotted name."""

    name: str
    line: int
    typing_only: bool  # under `if TYPE_CHECKING:`: never runs


@dataclass(frozen=True)
class Module:
    """One of our source files."""

    name: str
    path: Path
    is_package: bool

    @property
    def top(self) -> str:
        return self.name.split(".")[0]

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    def within(self, prefix: str) -> bool:
        return _within(self.name, prefix)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Module]:
    """Every module of our packages by dotted name."""
    found = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            name = _module_name(path)
            found[name] = Module(name, path, path.name == "__init__.py")
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _dynamic_import(node: ast.Call) -> str | None:
    """The module named by `import_module("x")` or `__import__("x")`, when it is a constant."""
    func = node.func
    named = (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )
    if named and node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value if isinstance(value, str) else None
    return None


def imports(source: str, module: str, *, is_package: bool = False) -> Iterator[Import]:
    """Every import in `source`: top-level, inside functions, relative, dynamic.

    `from x import y` yields `x` and `x.y` (y may be a module or a name in x).
    """
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST, typing_only: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                yield from visit(child, True)
            for child in node.orelse:
                yield from visit(child, typing_only)
            return
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, line, typing_only)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                prefix = ".".join(base[: len(base) - (node.level - 1)])
                name = f"{prefix}.{node.module}" if node.module else prefix
            else:
                name = node.module or ""
            yield Import(name, line, typing_only)
            for alias in node.names:
                yield Import(f"{name}.{alias.name}", line, typing_only)
        elif isinstance(node, ast.Call) and (name := _dynamic_import(node)):
            yield Import(name, line, typing_only)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, typing_only)

    yield from visit(ast.parse(source), False)


@cache
def imports_of(name: str) -> tuple[Import, ...]:
    """The imports of one of our modules."""
    mod = modules()[name]
    return tuple(imports(mod.path.read_text(encoding="utf-8"), name, is_package=mod.is_package))


def _own_module(name: str) -> str | None:
    """The module of ours that importing `name` runs (the longest existing prefix), if any."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Module -> our modules it imports, at run time or only for types (both close a cycle)."""
    graph: dict[str, set[str]] = {}
    for name in modules():
        edges = set()
        for imp in imports_of(name):
            target = _own_module(imp.name) if imp.name.split(".")[0] in PACKAGES else None
            # A module naming its own package (`from . import x`) is inside it, not an edge.
            if target and not _within(name, target):
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle path through each group of modules that import each other, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        # Tarjan's strongly connected components; our graph is small enough to recurse.
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            members = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                members.add(w)
                if w == v:
                    break
            if len(members) > 1 or v in graph.get(v, ()):
                found.append(_cycle_path(graph, members))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(found)


def _cycle_path(graph: Mapping[str, Iterable[str]], members: set[str]) -> list[str]:
    """A shortest path from the smallest member back to itself, inside `members`."""
    start = min(members)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph.get(v, ())):
                if w == start:
                    return [*paths[v], start]
                if w in members and w not in paths:
                    paths[w] = [*paths[v], w]
                    following.append(w)
        frontier = following
    return sorted(members)


def _sources() -> list[Module]:
    return list(modules().values())


def _ids(mod: Module) -> str:
    return mod.rel


def _tree(mod: Module) -> ast.Module:
    return ast.parse(mod.path.read_text(encoding="utf-8"))


# --- the checker itself ------------------------------------------------------------------


def test_the_checker_sees_every_kind_of_import() -> None:
    """The scanner finds plain, from, relative, nested, dynamic and type-only imports."""
    source = textwrap.dedent(
        """
        import slack_sdk.web
        from typing import TYPE_CHECKING
        from telegram import Bot
        from . import sibling
        from ..bot import console

        if TYPE_CHECKING:
            from handlers.reply import Reply

        def later():
            import slack_bolt
            importlib.import_module("bot.cli")
            __import__("handlers")
        """
    )
    found = {i.name: i for i in imports(source, "crm_core.services.deals")}
    assert {
        "slack_sdk.web",
        "telegram",
        "crm_core.services.sibling",
        "crm_core.bot.console",
        "slack_bolt",
        "bot.cli",
        "handlers",
        "handlers.reply",
    } <= set(found)
    assert found["handlers.reply"].typing_only and not found["slack_bolt"].typing_only
    assert "crm_core.services" in {
        i.name for i in imports("from . import x", "crm_core.services", is_package=True)
    }


def test_every_package_is_scanned() -> None:
    """The scan covers real files in each layer (a wrong root would pass vacuously)."""
    assert {m.top for m in _sources()} == set(PACKAGES) == set(MAY_IMPORT)
    assert len(_sources()) > 20
    graph = import_graph()
    assert "crm_core.models" in graph["crm_core.services.deals"]
    assert sum(len(edges) for edges in graph.values()) > 200


def test_the_cycle_finder_finds_cycles() -> None:
    """A two-module cycle, a longer one and a self import are found; a chain is not."""
    graph = {
        "a": {"b"},
        "b": {"a", "c"},
        "c": {"d"},
        "d": {"e"},
        "e": {"c"},
        "f": {"f"},
        "g": {"a"},
    }
    assert cycles(graph) == [["a", "b", "a"], ["c", "d", "e", "c"], ["f", "f"]]
    assert cycles({"x": {"y"}, "y": {"z"}, "z": set()}) == []


# --- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("mod", _sources(), ids=_ids)
def test_imports_point_down(mod: Module) -> None:
    """A package imports only the layers below it (type-only imports included)."""
    allowed = MAY_IMPORT[mod.top] | {mod.top}
    bad = sorted(
        {
            f"{i.name} (line {i.line})"
            for i in imports_of(mod.name)
            if i.name.split(".")[0] in PACKAGES and i.name.split(".")[0] not in allowed
        }
    )
    assert not bad, f"{mod.rel} imports {bad}: see the layer picture in DESIGN.md"


@pytest.mark.parametrize("mod", _sources(), ids=_ids)
def test_platform_libraries_stay_in_their_adapter(mod: Module) -> None:
    """slack_bolt and slack_sdk only in bot/slack, telegram only in bot/telegram."""
    bad = sorted(
        {
            f"{i.name} (line {i.line})"
            for i in imports_of(mod.name)
            if (home := PLATFORM_HOME.get(i.name.split(".")[0])) and not mod.within(home)
        }
    )
    assert not bad, f"{mod.rel} imports {bad}: a platform library belongs to its adapter"


@pytest.mark.parametrize("mod", _sources(), ids=_ids)
def test_adapters_stay_apart(mod: Module) -> None:
    """The Slack and Telegram adapters never import each other."""
    mine = next((a for a in ADAPTERS if mod.within(a)), None)
    others = [a for a in ADAPTERS if a != mine] if mine else []
    bad = sorted({i.name for i in imports_of(mod.name) for o in others if _within(i.name, o)})
    assert not bad, f"{mod.rel} imports {bad}"


def adapter_violations() -> set[tuple[str, str]]:
    """(file, forbidden import) for every adapter module that does database work itself."""
    found = set()
    for mod in _sources():
        if not any(mod.within(a) for a in ADAPTERS):
            continue
        for imp in imports_of(mod.name):
            for forbidden in ADAPTER_FORBIDDEN:
                if _within(imp.name, forbidden):
                    found.add((mod.rel, forbidden))
    return found


def test_adapters_do_no_database_work() -> None:
    """No SQLAlchemy and no session of their own in bot/slack and bot/telegram, except the
    violations named in ADAPTER_ALLOWED_TODAY."""
    new = sorted(adapter_violations() - ADAPTER_ALLOWED_TODAY)
    assert not new, "adapters only translate: " + "; ".join(
        f"{path} imports {name} ({ADAPTER_FORBIDDEN[name]})" for path, name in new
    )


def test_the_adapter_allow_list_is_not_stale() -> None:
    """Every allowed violation still happens: once the work moves out, its entry must go."""
    stale = sorted(ADAPTER_ALLOWED_TODAY - adapter_violations())
    assert not stale, f"remove from ADAPTER_ALLOWED_TODAY, no longer imported: {stale}"


def test_no_import_cycles() -> None:
    """No module imports itself through others, at the top or inside a function."""
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def _block_kit_dicts(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Dict literals whose "type" is a Block Kit element type."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                    and value.value in BLOCK_KIT_TYPES
                ):
                    yield node.lineno, str(value.value)


def test_block_kit_lives_only_in_bot_slack() -> None:
    """Block Kit JSON is built in bot/slack only (and the check does see it there)."""
    seen = {mod.rel: list(_block_kit_dicts(_tree(mod))) for mod in _sources()}
    outside = {path: found for path, found in seen.items() if found and "bot/slack/" not in path}
    assert not outside, f"Block Kit outside bot/slack: {outside}"
    assert seen["bot/slack/blocks.py"]


def _swallowed(tree: ast.AST) -> Iterator[int]:
    """Lines of `except:` / `except Exception:` handlers whose body only passes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            broad = node.type is None or (
                isinstance(node.type, ast.Name) and node.type.id in ("Exception", "BaseException")
            )
            if broad and all(isinstance(s, ast.Pass) for s in node.body):
                yield node.lineno


def test_no_error_is_swallowed() -> None:
    """No `except Exception: pass`: errors are logged with a reference and answered."""
    found = {mod.rel: lines for mod in _sources() if (lines := list(_swallowed(_tree(mod))))}
    assert not found, f"swallowed exceptions: {found}"
    assert list(_swallowed(ast.parse("try:\n    x()\nexcept Exception:\n    pass\n"))) == [3]


def _reads_environment_at_import(tree: ast.Module) -> Iterator[int]:
    """Lines of module-level code (outside functions) that touch os.environ or os.getenv."""

    def walk(node: ast.AST) -> Iterator[int]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
            yield node.lineno
        if isinstance(node, ast.Name) and node.id in ("environ", "getenv"):
            yield node.lineno
        for child in ast.iter_child_nodes(node):
            yield from walk(child)

    yield from walk(tree)


def test_nothing_reads_the_environment_at_import_time() -> None:
    """Settings are read when the composition root asks (pydantic-settings), never on import."""
    found = {
        mod.rel: lines
        for mod in _sources()
        if (lines := list(_reads_environment_at_import(_tree(mod))))
    }
    assert not found, f"environment read at import time: {found}"
    probe = ast.parse("import os\nX = os.environ.get('A')\ndef f():\n    return os.getenv('B')\n")
    assert list(_reads_environment_at_import(probe)) == [2]


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
