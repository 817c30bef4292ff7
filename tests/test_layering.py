"""Model I/O, the chats, the safety rules and the settings sit below the pipelines: nothing under
``datasets/``, ``chat/``, ``safety/`` or ``config/`` imports ``llm_finetune.pipelines`` (the shared
rules they need live in ``llm_finetune.modeling``). Every import statement counts, those inside
functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "src" / "llm_finetune"
BELOW_THE_PIPELINES = ("datasets", "chat", "config", "modeling", "safety")
FORBIDDEN = "llm_finetune.pipelines"


def package_of(path: Path) -> str:
    return ".".join(("llm_finetune", *path.relative_to(PACKAGE).parent.parts))


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative ones resolved against ``package``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # ``from llm_finetune import pipelines`` imports the package as a name.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            found.append((node.lineno, base))
    return found


def is_forbidden(module: str) -> bool:
    return module == FORBIDDEN or module.startswith(FORBIDDEN + ".")


def modules_below_the_pipelines() -> list[Path]:
    return sorted(path for part in BELOW_THE_PIPELINES for path in (PACKAGE / part).rglob("*.py"))


@pytest.mark.parametrize(
    "path", modules_below_the_pipelines(), ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_nothing_below_the_pipelines_imports_them(path):
    offending = [
        f"{path.relative_to(PROJECT_ROOT).as_posix()}:{line} imports {module}"
        for line, module in imported_modules(path, package_of(path))
        if is_forbidden(module)
    ]
    assert not offending, "\n".join(offending)


def test_the_walk_finds_imports_inside_functions_and_relative_ones(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text(
        "from llm_finetune.config import Settings\n"
        "def load():\n"
        "    from llm_finetune.pipelines.training.lora import merge_adapters\n"
        "    import llm_finetune.pipelines.evaluation\n"
        "from ..pipelines import training\n"
        "from .. import pipelines\n",
        encoding="utf-8",
    )
    found = [m for _, m in imported_modules(module, "llm_finetune.chat") if is_forbidden(m)]
    assert "llm_finetune.pipelines.training.lora" in found
    assert "llm_finetune.pipelines.evaluation" in found
    assert "llm_finetune.pipelines.training" in found
    assert "llm_finetune.pipelines" in found
    assert not is_forbidden("llm_finetune.config.Settings")
    assert not is_forbidden("llm_finetune.pipelines_extra")
    assert modules_below_the_pipelines(), "the walk found no modules at all"
