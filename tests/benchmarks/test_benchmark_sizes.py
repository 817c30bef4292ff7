"""The team's size limits hold in benchmarks/: no module over 300 lines, no function over 60
(decorators and docstring included)."""

from __future__ import annotations

import ast
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def test_no_benchmark_module_or_function_is_over_the_limits():
    modules = sorted(BENCHMARKS.rglob("*.py"))
    assert BENCHMARKS / "gpu_suite.py" in modules and BENCHMARKS / "gpu" / "epoch.py" in modules
    too_long = []
    for path in modules:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(BENCHMARKS)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if node.end_lineno - start + 1 > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}")
    assert not too_long, too_long
