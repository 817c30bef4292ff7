"""Two ``kedro run``s of one project at once, with different parameters: each reads its own data.

The race (issue 17): run A starts (its save version, the session id, is a timestamp); run B starts
later with ``--params data_engineering.max_rows=...``, so B's versions are newer than A's. Once B
has saved its splits, "the latest version" of ``train_qa`` & co. is B's: unpinned, A's
``build_data_quality_report`` read B's splits and failed ("row accounting broken"), and a training
node would have trained on B's data without a word.

The interleavings are forced with Kedro hooks that only start the other run (the real ``kedro run``
CLI, in a subprocess) at the worst moment and wait for it; nothing of either run is replaced. Each
test fails on the code before ``llm_finetune.run_versions`` (checked against ca03763), except the
one started "at once", which depends on the scheduler.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.mlflow_support import copy_project, experiment_id, save_tiny_model, tracking_client

SPLITS = ("train_qa", "validation_qa", "test_qa")
B_MAX_ROWS = 20
KEDRO = Path(sys.executable).with_name("kedro")


def _kedro_run_command(max_rows: int | None) -> list[str]:
    command = [str(KEDRO), "run", "--pipeline", "data_engineering"]
    if max_rows is not None:
        command += ["--params", f"data_engineering.max_rows={max_rows}"]
    return command


def _start(project: Path, max_rows: int | None) -> subprocess.Popen:
    env = {**os.environ, "LLM_FINETUNE_TRACKING": "on", "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.Popen(
        _kedro_run_command(max_rows),
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-6000:]
    return output


class RunBeside:
    """Starts run B (the real ``kedro run`` CLI, in a subprocess) when run A is about to save
    its splits, and waits for B to finish: the worst interleaving, every time."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.output: str | None = None

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if node.name == "apply_prompt_template" and self.output is None:
            self.output = _finish(_start(self.project, B_MAX_ROWS))


def _versions(project: Path, name: str) -> list[str]:
    folder = project / "data" / "03_primary" / f"{name}.jsonl"
    if name == "data_quality_report":
        folder = project / "data" / "08_reporting" / "data_quality_report.json"
    return sorted(path.name for path in folder.iterdir())


def _outputs_of(project: Path, version: str) -> dict[str, Any]:
    primary = project / "data" / "03_primary"
    report = project / "data" / "08_reporting" / "data_quality_report.json" / version
    outputs: dict[str, Any] = {
        name: pl.read_ndjson(primary / f"{name}.jsonl" / version / f"{name}.jsonl")
        for name in SPLITS
    }
    outputs["report"] = json.loads((report / "data_quality_report.json").read_text())
    return outputs


def _check_derived_from_own_splits(outputs: dict[str, Any]) -> None:
    report = outputs["report"]
    added = report["safety_examples"]["safety_rows_added"]  # red-flag rows in the train split
    assert report["rows_kept"] == sum(outputs[name].height for name in SPLITS) - added
    for name in SPLITS:
        split = name.removesuffix("_qa")
        assert report["splits"][split]["rows"] == outputs[name].height


def _version_tags(project: Path, session_id: str) -> dict[str, str]:
    client = tracking_client()
    (run,) = client.search_runs(
        [experiment_id(client, project)], filter_string=f"tags.run_id = '{session_id}'"
    )
    prefix = "dataset_version."
    return {k[len(prefix) :]: v for k, v in run.data.tags.items() if k.startswith(prefix)}


def test_a_run_reads_its_own_splits_while_another_run_saves_newer_ones(tmp_path):
    """Run A (every row) in this process; run B (``max_rows=20``) saves all its outputs, with
    newer versions, just before A saves and reads back its splits. Without the pinning
    (``llm_finetune.run_versions``) A's report reads B's splits and A fails with "row accounting
    broken"; with it both runs succeed, each report counts its own splits, and each MLflow run's
    lineage tags name its own versions."""
    project = copy_project(tmp_path / "project", "concurrent_runs")
    beside = RunBeside(project)
    with pytest.MonkeyPatch.context() as patch:  # bootstrap_project edits sys.path and PYTHONPATH
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        patch.setenv("LLM_FINETUNE_TRACKING", "on")
        patch.chdir(project)
        bootstrap_project(project)
        with KedroSession.create(project_path=project) as session:
            session._hook_manager.register(beside)
            run_a = session.store["session_id"]
            session.run(pipeline_names=["data_engineering"])
    assert beside.output is not None  # B ran, and succeeded

    versions = _versions(project, "data_quality_report")
    assert len(versions) == 2 and versions[0] == run_a  # B's versions are the newer ones
    run_b = versions[1]
    a, b = _outputs_of(project, run_a), _outputs_of(project, run_b)
    for outputs in (a, b):
        _check_derived_from_own_splits(outputs)
    assert b["report"]["rows_kept"] <= B_MAX_ROWS < a["report"]["rows_kept"]
    for run in (run_a, run_b):
        tags = _version_tags(project, run)
        assert {tags[name] for name in (*SPLITS, "data_quality_report")} == {run}
    assert "did not match load version" not in beside.output


def test_two_runs_started_at_once_both_succeed_with_their_own_outputs(tmp_path):
    """The issue's reproduction as it was typed: two ``kedro run`` processes started together,
    one with ``--params data_engineering.max_rows=20``. Whether B overtakes A depends on the
    scheduler (the test above forces the interleaving); either way both must succeed, each with
    its own outputs and lineage."""
    project = copy_project(tmp_path / "project", "runs_at_once")
    tracking_client().search_experiments()  # the store's tables exist before both runs start
    first, second = _start(project, None), _start(project, B_MAX_ROWS)
    outputs = {"first": _finish(first), "second": _finish(second)}
    for output in outputs.values():
        assert "did not match load version" not in output, output[-6000:]
    versions = _versions(project, "data_quality_report")
    assert len(versions) == 2
    reports = [_outputs_of(project, version) for version in versions]
    for version, report in zip(versions, reports, strict=True):
        _check_derived_from_own_splits(report)
        tags = _version_tags(project, version)
        assert {tags[name] for name in (*SPLITS, "data_quality_report")} == {version}
    kept = sorted(report["report"]["rows_kept"] for report in reports)
    assert kept[0] <= B_MAX_ROWS < kept[1]


class DataEngineeringBeside:
    """Runs data_engineering again (``max_rows=20``, a subprocess) just before the training run
    loads ``train_qa``: newer splits appear after the training run started, before it reads
    them."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.done = False

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        if dataset_name == "train_qa" and not self.done:
            _finish(_start(self.project, B_MAX_ROWS))
            self.done = True


def test_a_training_run_tokenizes_the_splits_that_were_latest_when_it_started(tmp_path):
    """Without the pinning the training run would tokenize (and train on) the splits of the
    data_engineering run that finished after it started, without a word; with it, it reads the
    splits that were the latest when it started, and its lineage tags say which."""
    project = copy_project(tmp_path / "project", "pinned_inputs")
    model_dir = save_tiny_model(tmp_path / "tiny_model")
    _finish(_start(project, 40))
    (earlier,) = _versions(project, "train_qa")
    with pytest.MonkeyPatch.context() as patch:  # bootstrap_project edits sys.path and PYTHONPATH
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        patch.setenv("LLM_FINETUNE_TRACKING", "on")
        patch.chdir(project)
        bootstrap_project(project)
        params = {"model": {"base": str(model_dir)}}
        with KedroSession.create(project_path=project, runtime_params=params) as session:
            session._hook_manager.register(DataEngineeringBeside(project))
            training = session.store["session_id"]
            free = session.run(pipeline_names=["training"], to_nodes=["tokenize_datasets"])
    assert len(_versions(project, "train_qa")) == 2  # the newer splits are there
    stats = free["tokenization_stats"].load()
    for name in ("train", "validation"):
        tokenized = stats[name]["examples"] + stats[name]["dropped_prompt_too_long"]
        assert tokenized == _outputs_of(project, earlier)[f"{name}_qa"].height, name
    tags = _version_tags(project, training)
    assert tags["train_qa"] == tags["validation_qa"] == earlier
    assert tags["tokenized_train"] == training
