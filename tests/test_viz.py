"""``kedro viz build`` renders every node and dataset of every registered pipeline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

KEDRO = Path(sys.executable).parent / "kedro"


@pytest.fixture(scope="module")
def viz_build(tmp_path_factory) -> Path:
    """``build/api`` of a ``kedro viz build`` run in a copy of the project (no data needed)."""
    project = tmp_path_factory.mktemp("viz_project")
    ignored = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copytree(PROJECT_ROOT / "conf", project / "conf", ignore=ignored)
    shutil.copytree(PROJECT_ROOT / "src", project / "src", ignore=ignored)
    result = subprocess.run(
        [str(KEDRO), "viz", "build"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    api = project / "build" / "api"
    assert (api / "main").is_file(), result.stdout[-3000:]
    return api


def _name(node: dict) -> str:
    """The node's full (namespaced) name; some payloads only carry ``name``."""
    return node.get("full_name") or node["name"]


def _registered_pipelines():
    from llm_finetune.pipeline_registry import register_pipelines

    return register_pipelines()


def _payload(viz_build: Path, pipeline: str) -> dict:
    """One pipeline's payload; ``main`` holds only the default pipeline's nodes (so not those of
    ``sweep``, which is not part of ``__default__``)."""
    return json.loads((viz_build / "pipelines" / pipeline).read_text())


def test_every_node_of_every_pipeline_is_in_the_build(viz_build):
    main = json.loads((viz_build / "main").read_text())
    built_pipelines = {pipeline["id"] for pipeline in main["pipelines"]}
    for name, pipeline in _registered_pipelines().items():
        assert name in built_pipelines
        expected = {node.name for node in pipeline.nodes}
        assert expected, f"pipeline {name} has no nodes"
        payload = _payload(viz_build, name)
        tasks = {_name(node): node for node in payload["nodes"] if node["type"] == "task"}
        missing = expected - set(tasks)
        assert not missing, f"{name}: nodes missing from the viz build: {sorted(missing)}"
        for node_name in expected:
            assert name in tasks[node_name]["pipelines"], (name, node_name)


def test_every_dataset_is_in_the_build(viz_build):
    for name, pipeline in _registered_pipelines().items():
        nodes = [node for node in _payload(viz_build, name)["nodes"] if node["type"] != "task"]
        shown = {node["name"] for node in nodes} | {_name(node) for node in nodes}
        missing = pipeline.datasets() - shown
        assert not missing, f"{name}: datasets missing from the viz build: {sorted(missing)}"
