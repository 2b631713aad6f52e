"""The benchmarks and scripts import the product's names inside their functions (so --help
stays fast); a name the product renames would break a benchmark only when someone next runs it.
Here every such import is resolved (bench/retrieval.py once imported a helper that had moved)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT = {
    "core",
    "search",
    "recommender",
    "indexer",
    "services",
    "api",
    "ui",
    "videobert",
    "model_lifecycle",
    "bench",
}


def _product_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of each ``from <product module> import name`` in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] in PRODUCT
        ):
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
    return found


def _resolves(module: str, name: str) -> bool:
    if hasattr(importlib.import_module(module), name):
        return True
    try:  # `from package import submodule`
        importlib.import_module(f"{module}.{name}")
    except ModuleNotFoundError:
        return False
    return True


FILES = sorted([*(REPO / "bench").glob("*.py"), *(REPO / "scripts").glob("*.py")])


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_product_name_a_benchmark_or_script_imports_exists(path):
    missing = [
        f"{path.name}:{line}: from {module} import {name}"
        for line, module, name in _product_imports(path)
        if not _resolves(module, name)
    ]
    assert not missing, missing


def test_the_check_finds_a_name_that_does_not_exist(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from videobert.embedder import _segment_probs\n")
    assert [(m, n) for _, m, n in _product_imports(probe) if not _resolves(m, n)] == [
        ("videobert.embedder", "_segment_probs")
    ]
