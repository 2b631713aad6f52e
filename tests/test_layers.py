"""The packages' layering: no import circle, no import (or module named in a string) that runs
upward, and front ends that hold no use-case logic of their own."""

from __future__ import annotations

import ast
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
FRONT_ENDS = ("api", "ui")


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


def test_front_ends_hold_no_catalog_transactions_job_running_or_model_swapping():
    forbidden = re.compile(
        r"session_scope|sessionmaker|run_ingest_job|try_swap|swap_pending_space|"
        r"begin_transition|reembed_library|train_library"
    )
    found = []
    for mod, path in modules().items():
        if mod.split(".")[0] in FRONT_ENDS:
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if forbidden.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
