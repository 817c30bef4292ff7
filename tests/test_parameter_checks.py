"""Bad settings stop `kedro run` before any node runs, so before any model is loaded."""

from __future__ import annotations

import os
import sys

import pytest

from llm_finetune.parameter_checks import check_parameters
from tests.mlflow_support import copy_project

GOOD = {
    "data_engineering": {"validation_fraction": 0.1, "test_fraction": 0.1},
    "generation": {},
    "evaluation": {"num_questions": None},
    "sweep": {},
}


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("data_engineering", {"test_fraction": 0}, "data_engineering.test_fraction must be betw"),
        ("data_engineering", {"validation_fraction": 1.2}, "validation_fraction must be betw"),
        ("data_engineering", {"validation_fraction": 0.5, "test_fraction": 0.5}, "below 1"),
        ("generation", {"max_new_tokens": 0}, "generation.max_new_tokens must be a positive"),
        ("generation", {"max_new_tokens": -5}, "generation.max_new_tokens must be a positive"),
        ("generation", {"repetition_penalty": 0}, "generation.repetition_penalty must be"),
        ("generation", {"max_new_token": 10}, "generation.max_new_token: unknown key"),
        ("evaluation", {"num_questions": 0}, "evaluation.num_questions must be a positive"),
        ("sweep", {"gird": {"lora.r": [8]}}, "sweep.gird: unknown key \\(sweep pipeline"),
    ],
)
def test_bad_settings_are_named(section, values, message):
    check_parameters(GOOD)
    with pytest.raises(ValueError, match=message):
        check_parameters({**GOOD, section: {**GOOD[section], **values}})


def test_bad_sizing_and_trainer_settings_are_named():
    from llm_finetune.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS
    from tests.conftest import PROJECT_ROOT

    loader = CONFIG_LOADER_CLASS(conf_source=str(PROJECT_ROOT / "conf"), **CONFIG_LOADER_ARGS)
    sizing = loader["parameters"]["infrastructure_sizing"]
    check_parameters({**GOOD, "infrastructure_sizing": sizing})
    with pytest.raises(ValueError, match="infrastructure_sizing.*utilisation"):
        check_parameters({**GOOD, "infrastructure_sizing": {**sizing, "utilisation": 2}})
    trainer = {"training": {"trainer": {"learning_rate": 1e-4, "warmup_step": 1}}}
    check_parameters({**GOOD, **trainer})  # not a training run: the trainer is not checked
    with pytest.raises(ValueError, match="training.trainer: warmup_step is not a field"):
        check_parameters({**GOOD, **trainer}, trains=True)
    flex = {"training": {"attn_implementation": "flex_attention"}}
    check_parameters({**GOOD, **flex})  # not a training run: the device is not asked
    from llm_finetune.hardware import select_device

    if select_device().type == "cuda":
        check_parameters({**GOOD, **flex}, trains=True)
    else:
        with pytest.raises(ValueError, match="flex_attention has no backward on"):
            check_parameters({**GOOD, **flex}, trains=True)


def test_a_run_with_bad_settings_stops_before_any_node(tmp_path, monkeypatch):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = copy_project(tmp_path / "project", experiment="test_parameter_checks")
    monkeypatch.setattr(sys, "path", list(sys.path))  # bootstrap_project edits both
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    bootstrap_project(project)
    runtime_params = {"generation": {"max_new_tokens": 0}}
    with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
        with pytest.raises(ValueError, match="generation.max_new_tokens must be a positive"):
            session.run()
    written = [p for p in (project / "data").rglob("*") if p.is_file() and "01_raw" not in p.parts]
    assert written == [], "no node ran: nothing was written and no model was loaded"


def test_a_run_with_an_unknown_training_key_stops_before_any_node_naming_it(tmp_path, monkeypatch):
    """``kedro run --params training.lora.rnk=8``: the typed settings are built before the run."""
    import time

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = copy_project(tmp_path / "project", experiment="test_parameter_checks")
    monkeypatch.setattr(sys, "path", list(sys.path))  # bootstrap_project edits both
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    bootstrap_project(project)
    runtime_params = {"training": {"lora": {"rnk": 8}}}
    started = time.perf_counter()
    with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
        with pytest.raises(ValueError) as error:
            session.run()
    assert time.perf_counter() - started < 30
    assert str(error.value) == (
        "training.lora.rnk: unknown key (training pipeline; known: enabled, r, alpha, dropout, "
        "target_modules, learning_rate)"
    )
    written = [p for p in (project / "data").rglob("*") if p.is_file() and "01_raw" not in p.parts]
    assert written == [], "no node ran: nothing was written and no model was loaded"


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("training", {"lora": {"r": "8"}}, "training.lora.r must be a positive integer, got '8'"),
        ("training", {"packing": {"enabled": 1}}, "training.packing.enabled must be true or f"),
        ("data_engineering", {"max_rows": 0}, "data_engineering.max_rows must be a positive"),
        ("evaluation", {"perplexity_batch_size": 0}, "evaluation.perplexity_batch_size must be"),
        ("evaluation", {"num_question": 3}, "evaluation.num_question: unknown key"),
        ("human_evaluation", {"confidence": 1}, "human_evaluation.confidence must be between"),
    ],
)
def test_every_typed_settings_block_is_checked_whether_or_not_the_run_trains(
    section, values, message
):
    for trains in (False, True):
        with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
            check_parameters({**GOOD, section: {**GOOD.get(section, {}), **values}}, trains=trains)


def test_a_run_trains_when_it_holds_the_fine_tune_node():
    from llm_finetune.parameter_checks import trains
    from llm_finetune.pipeline_registry import register_pipelines

    pipelines = register_pipelines()
    assert trains(node.name for node in pipelines["training"].nodes)
    assert trains(node.name for node in pipelines["__default__"].nodes)
    assert not trains(node.name for node in pipelines["data_engineering"].nodes)
    assert not trains(node.name for node in pipelines["evaluation"].nodes)
    assert trains(["sweep.lora_r8.fine_tune"])  # a sweep configuration's copy


def test_the_parameter_check_imports_no_pipeline_code():
    import subprocess

    code = (
        "import sys; import llm_finetune.parameter_checks; "
        "print(sorted(m for m in sys.modules if m.startswith('llm_finetune.pipelines') "
        "or m in ('torch', 'transformers')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_wrong_typed_trainer_value_stops_a_run_before_any_node_naming_it(tmp_path, monkeypatch):
    """``kedro run --params training.trainer.label_smoothing_factor=abc`` fails in < 30 s."""
    import time

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = copy_project(tmp_path / "project", experiment="test_parameter_checks")
    monkeypatch.setattr(sys, "path", list(sys.path))  # bootstrap_project edits both
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    bootstrap_project(project)
    runtime_params = {"training": {"trainer": {"label_smoothing_factor": "abc"}}}
    started = time.perf_counter()
    with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
        with pytest.raises(ValueError, match=r"^training\.trainer\.label_smoothing_factor must"):
            session.run()
    assert time.perf_counter() - started < 30
    written = [p for p in (project / "data").rglob("*") if p.is_file() and "01_raw" not in p.parts]
    assert written == [], "no node ran: nothing was written and no model was loaded"
