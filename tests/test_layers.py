"""The packages' layering: no import circle, no import (or module named in a string) that runs
upward, and front ends that hold no use-case logic of their own."""

from __future__ import annotations

import ast
import enum
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Lower layers never import higher ones; packages of one layer do not import each other.
LAYERS = {
    "core": 0,
    "videobert": 1,
    "model_lifecycle": 2,
    "indexer": 3,
    "search": 3,
    "recommender": 3,
    "services": 4,
    "api": 5,
    "ui": 6,  # the command line also starts the API server (vidsearch api)
}


def modules() -> dict[str, Path]:
    found = {}
    for pkg in LAYERS:
        for f in (ROOT / pkg).rglob("*.py"):
            if "migrations" in f.parts:
                continue
            name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = f
    return found


def resolve(target: str, known: dict[str, Path]) -> str | None:
    parts = target.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(pkg[: len(pkg) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", node.value)
            ):
                # A module named in a string (Celery includes, import_module) counts too.
                targets = [node.value]
            for t in targets:
                r = resolve(t, known)
                if r and r != name:
                    graph[name].add(r)
    return graph


def test_no_import_runs_upward_or_sideways_between_packages_of_one_layer():
    wrong = []
    for mod, deps in import_graph().items():
        here = mod.split(".")[0]
        for dep in deps:
            there = dep.split(".")[0]
            if there != here and LAYERS[there] >= LAYERS[here]:
                wrong.append(f"{mod} -> {dep}")
    assert not wrong, "\n".join(sorted(wrong))


def test_there_is_no_import_circle():
    graph = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not circles, circles


# --- front ends: parse, call one service, render ---------------------------------------------
# A front end (the API, the CLI, the web pages, the Celery tasks) imports services/, its own
# package and framework, and the types every layer shares; never a module that does work.
FRONT_ENDS = ("api", "ui", "services.tasks")
SHARED = (
    "core.settings",  # the settings object
    "core.errors",  # error types
    "core.transient",  # which errors mean "unreachable for now"
    "core.logs",  # installing log redaction at start
    "core.third_party",  # quieting third-party loggers at start
    "core.timecode",  # how a time is written
    "core.queue",  # the Celery app and its task names: the tasks' own framework
    "search.types",  # result types, query errors and limits
    "recommender.types",  # the recommendation type
    "core.answers",  # the catalog's answers: a video, a job, a user, an event
    "search.describe",  # what a segment shows, in the words people read
    "api",  # the CLI starts the API server (vidsearch api)
)
# Modules a front end may take some names from: the enums of the table models, the filter type.
SHARED_NAMES = {"core.vectors": {"SearchFilter"}}
ENUM_MODULES = ("core.models",)
# Third-party packages that do work a front end leaves to services (its errors excepted).
WORKING_THIRD_PARTY = ("sqlalchemy", "torch", "transformers", "qdrant_client", "av", "numpy")
THIRD_PARTY_ERRORS = ("sqlalchemy.exc",)


def is_front_end(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FRONT_ENDS)


def _under(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def front_end_imports(source: str) -> list[tuple[str, list[str]]]:
    """(module, names) for each absolute import of ``source``; names empty for ``import x``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [a.name for a in node.names]))
    return found


def import_is_allowed(module: str, target: str, names: list[str]) -> bool:
    own = module.split(".")[0]
    if target.split(".")[0] not in LAYERS:
        working = any(_under(target, t) for t in WORKING_THIRD_PARTY)
        return not working or any(_under(target, e) for e in THIRD_PARTY_ERRORS)
    if _under(target, own) or _under(target, "services"):
        return True  # another front end among them: the CLI starts the API and the worker
    if any(_under(target, s) for s in SHARED):
        return True
    if target in SHARED_NAMES:
        return bool(names) and set(names) <= SHARED_NAMES[target]
    if target in ENUM_MODULES and names:
        mod = importlib.import_module(target)
        return all(_is_enum(getattr(mod, n, None)) for n in names)
    return False


def _is_enum(value: object) -> bool:
    """An enum, or a class of named constants (``JobStatus.QUEUED``); not a table or a function."""
    if not isinstance(value, type) or hasattr(value, "__table__"):
        return False
    if issubclass(value, enum.Enum):
        return True
    own = {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return bool(own) and all(isinstance(v, (str, int, tuple, frozenset)) for v in own.values())


def front_end_violations(module: str, source: str) -> list[str]:
    wrong = []
    for target, names in front_end_imports(source):
        # ``from search import describe``: each name is a module of its own.
        package = target in LAYERS
        checks = [(f"{target}.{n}", []) for n in names] if package else [(target, names)]
        wrong += [
            f"{module} imports {t}" + (f" ({', '.join(n)})" if n else "")
            for t, n in checks
            if t != "__future__" and not import_is_allowed(module, t, n)
        ]
    return wrong


def test_front_ends_import_services_and_shared_types_only():
    found = []
    for mod, path in modules().items():
        if is_front_end(mod):
            found += front_end_violations(mod, path.read_text())
    assert not found, "\n".join(sorted(found))


def test_the_front_end_rule_refuses_a_module_that_does_work():
    # What the rule exists to catch: a handler that reaches past services/ into the engine.
    for source in [
        "from search.service import SearchService",
        "from core.db import session_scope",
        "from core.models import Video",
        "from core.vectors import open_vector_store",
        "from sqlalchemy import select",
        "import indexer.pipeline",
        "from model_lifecycle.reembed import try_swap",
        "from search import service",
    ]:
        assert front_end_violations("api.routers.search", source), source
    for source in [
        "from services.search import search_text",
        "from core.models import JobStatus",
        "from core.vectors import SearchFilter",
        "from sqlalchemy.exc import OperationalError",
        "from search.types import SearchResponse",
        "from fastapi import APIRouter",
    ]:
        assert not front_end_violations("api.routers.search", source), source


# --- catalog queries live in core/ --------------------------------------------------------------
ABOVE_CORE = ("search", "recommender", "indexer", "services", "api", "ui")
# What a module may take from SQLAlchemy above core/: the session's type and the driver's errors.
SQLALCHEMY_ALLOWED = ("sqlalchemy.orm", "sqlalchemy.exc")
SQL_CALLS = ("execute", "scalar", "scalars", "query")


def sql_violations(module: str, source: str) -> list[str]:
    wrong = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("sqlalchemy")
        ):
            if not any(_under(node.module, a) for a in SQLALCHEMY_ALLOWED) or any(
                a.name not in ("Session", "OperationalError") for a in node.names
            ):
                wrong.append(
                    f"{module} imports {node.module} ({', '.join(a.name for a in node.names)})"
                )
        elif isinstance(node, ast.Import) and any(
            a.name.startswith("sqlalchemy") for a in node.names
        ):
            wrong.append(f"{module} imports sqlalchemy")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("session", "conn", "connection")
        ):
            wrong.append(f"{module}:{node.lineno} runs SQL ({node.func.value.id}.{node.func.attr})")
    return wrong


def test_no_module_above_core_imports_sqlalchemy_or_runs_sql():
    found = []
    for mod, path in modules().items():
        if mod.split(".")[0] in ABOVE_CORE:
            found += sql_violations(mod, path.read_text())
    assert not found, "\n".join(sorted(found))


def test_the_sql_rule_finds_a_query_above_core():
    for source in [
        "from sqlalchemy import select",
        "import sqlalchemy",
        "from sqlalchemy.orm import joinedload",
        "def f(session):\n    return session.scalars(q)",
        "def f(conn):\n    conn.execute(q)",
    ]:
        assert sql_violations("search.service", source), source
    for source in [
        "from sqlalchemy.orm import Session",
        "from sqlalchemy.exc import OperationalError",
        "def f(session):\n    return get_video(session=session, video_id='x')",
    ]:
        assert not sql_violations("search.service", source), source
