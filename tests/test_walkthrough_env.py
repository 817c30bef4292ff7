"""``--env walkthrough`` is the walkthrough's setup exactly, ``--env hub`` the same online, and the
layered config loader that lets hub build on walkthrough without copying its settings."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from llm_finetune.config_loader import LayeredConfigLoader
from llm_finetune.modeling.prompt_format import resolve_template
from llm_finetune.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT
from tests.mlflow_support import copy_project, save_tiny_model

# The walkthrough's TrainingArguments and data settings, as its notebook writes them.
WALKTHROUGH_TRAINING_ARGUMENTS = {
    "learning_rate": 1e-5,
    "per_device_train_batch_size": 1,
    "gradient_accumulation_steps": 4,
    "optim": "adafactor",
    "warmup_steps": 1,
    "max_steps": 3,
    "logging_steps": 1,
    "eval_steps": 120,
    "save_steps": 120,
    "save_total_limit": 1,
    "per_device_eval_batch_size": 1,
    "load_best_model_at_end": True,
    "metric_for_best_model": "eval_loss",
    "greater_is_better": False,
}
WALKTHROUGH_DATA = {"max_rows": 1500, "max_length": 2048, "loss_on": "full text"}
MARS = "What do you think of Mars?"


def load_config(env: str | None, key: str, conf: Path = PROJECT_ROOT / "conf") -> dict:
    return LayeredConfigLoader(conf_source=str(conf), env=env, **CONFIG_LOADER_ARGS)[key]


@pytest.mark.parametrize("env", ["walkthrough", "hub"])
def test_environment_resolves_to_the_walkthrough_training_arguments(env, tmp_path):
    from transformers import IntervalStrategy
    from transformers.training_args import OptimizerNames

    from llm_finetune.config.trainer_arguments import training_arguments

    training = load_config(env, "parameters")["training"]
    args = training_arguments(training, str(tmp_path), "cpu")
    resolved = {name: getattr(args, name) for name in WALKTHROUGH_TRAINING_ARGUMENTS}
    assert resolved == WALKTHROUGH_TRAINING_ARGUMENTS
    assert args.optim == OptimizerNames.ADAFACTOR
    assert args.eval_strategy == IntervalStrategy.STEPS == args.save_strategy
    assert not args.bf16  # on this CPU


@pytest.mark.parametrize("env", ["walkthrough", "hub"])
def test_environment_resolves_to_the_walkthrough_data_settings(env):
    params = load_config(env, "parameters")
    training = params["training"]
    assert params["data_engineering"]["max_rows"] == WALKTHROUGH_DATA["max_rows"]
    assert training["tokenization"]["max_length"] == WALKTHROUGH_DATA["max_length"]
    assert training["tokenization"]["answer_only_loss"] is False  # loss on the full text
    assert training["packing"]["enabled"] is False
    assert training["chunked_loss"]["enabled"] is False
    assert training["lora"]["enabled"] is False
    assert params["evaluation"]["off_topic_prompts"] == [MARS]
    walkthrough_template = "### Question:\n{question}\n### Answer:\n{answer}"
    assert resolve_template(params["prompt_template"]) == walkthrough_template


def test_hub_is_walkthrough_plus_the_online_data_and_model():
    assert load_config("hub", "parameters") == load_config("walkthrough", "parameters")
    # Each setting written once: hub has no parameters of its own.
    assert not list((PROJECT_ROOT / "conf" / "hub").glob("**/parameters*"))
    hub, walkthrough = load_config("hub", "catalog"), load_config("walkthrough", "catalog")
    assert hub["raw_dialogues"]["type"] == "llm_finetune.datasets.HubDialoguesDataset"
    assert hub["raw_dialogues"]["repo_id"] == "ruslanmv/ai-medical-chatbot"
    assert hub["base_model"]["source"] == "EleutherAI/pythia-70m"
    # Offline, walkthrough reads the embedded sample and model, as base does.
    assert walkthrough["raw_dialogues"] == load_config(None, "catalog")["raw_dialogues"]
    assert walkthrough["base_model"]["source"] == "smollm2-135m-instruct"
    assert set(hub) == set(walkthrough)


def _write(conf: Path, env: str, text: str, name: str = "parameters.yml") -> None:
    (conf / env).mkdir(parents=True, exist_ok=True)
    (conf / env / name).write_text(text)


def test_layered_loader_merges_base_parent_and_environment_in_order(tmp_path):
    conf = tmp_path / "conf"
    _write(conf, "base", "a: {x: 1, y: 1, z: 1}\nkeep: base\n")
    _write(conf, "parent", "a: {y: 2, z: 2}\n")
    _write(conf, "child", "a: {z: 3}\n")
    _write(conf, "child", "entry: {type: child}\n", "catalog.yml")
    _write(conf, "base", "entry: {type: base}\nother: {type: base}\n", "catalog.yml")
    loader = LayeredConfigLoader(
        conf_source=str(conf),
        env="child",
        base_env="base",
        default_run_env="local",
        merge_strategy={"parameters": "soft"},
        env_parents={"child": "parent"},
    )
    assert loader["parameters"] == {"a": {"x": 1, "y": 2, "z": 3}, "keep": "base"}
    assert loader["catalog"]["entry"] == {"type": "child"}
    assert loader["catalog"]["other"] == {"type": "base"}


@pytest.mark.parametrize(
    "parents", [{"a": "b", "b": "a"}, {"a": "a"}, {"a": "base"}], ids=["cycle", "self", "base"]
)
def test_layered_loader_rejects_cycles(tmp_path, parents):
    with pytest.raises(ValueError, match="env_parents: environment"):
        LayeredConfigLoader(conf_source=str(tmp_path), base_env="base", env_parents=parents)


def walkthrough_project(tmp_path: Path) -> Path:
    project = copy_project(tmp_path / "project", experiment="walkthrough")
    shutil.copytree(PROJECT_ROOT / "conf" / "walkthrough", project / "conf" / "walkthrough")
    return project


def run_session(project: Path, env: str | None, params: dict, pipelines: list[str]) -> dict:
    """``kedro run --env <env> --pipelines ...`` in ``project``; returns the catalog's outputs."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    with pytest.MonkeyPatch.context() as patch:  # bootstrap_project edits sys.path, PYTHONPATH
        patch.setattr(sys, "path", list(sys.path))
        patch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
        bootstrap_project(project)
        with KedroSession.create(project_path=project, env=env, runtime_params=params) as session:
            session.run(pipeline_names=pipelines)
            catalog = session.load_context().catalog
            names = ("training_metrics", "off_topic_probe", "data_quality_report")
            return {name: catalog.load(name) for name in names}


def test_walkthrough_environment_runs_end_to_end_on_a_tiny_model(tmp_path):
    project = walkthrough_project(tmp_path)
    params = {
        "model": {"base": str(save_tiny_model(tmp_path / "tiny_model"))},
        "evaluation": {"num_questions": 2},
        "generation": {"max_new_tokens": 4},
    }
    outputs = run_session(
        project, "walkthrough", params, ["data_engineering", "training", "evaluation"]
    )
    summary = outputs["training_metrics"]["summary"]
    assert summary["global_step"] == 3
    assert summary["learning_rate"] == 1e-5
    assert summary["rows_per_optimizer_step"] == 4  # batch 1 x grad-accum 4
    assert summary["examples_trained"] == 12  # one example per row, 3 steps
    assert summary["packing"] is None and summary["chunked_loss"] is None
    # No evaluation before step 120; transformers 5 evaluates once at the end of training.
    evaluated = [e["step"] for e in outputs["training_metrics"]["log_history"] if "eval_loss" in e]
    assert evaluated == [3]
    assert outputs["data_quality_report"]["rows_read"] <= WALKTHROUGH_DATA["max_rows"]
    [probe] = outputs["off_topic_probe"]
    assert probe["question"] == MARS
    assert {"base_raw_answer", "base_templated_answer", "fine_tuned_raw_answer"} <= set(probe)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"training": {"trainer": {"learning_rat": 1e-4}}}, "training.trainer: learning_rat"),
        ({"generation": {"max_new_token": 8}}, "max_new_token"),
    ],
)
def test_unknown_parameter_fails_the_same_way_in_every_environment(tmp_path, override, message):
    project = walkthrough_project(tmp_path)
    errors = {}
    for env in (None, "walkthrough"):
        with pytest.raises(ValueError, match=message) as error:
            run_session(project, env, override, ["data_engineering", "training"])
        errors[env] = str(error.value)
    assert errors[None] == errors["walkthrough"]
    assert not (project / "data" / "03_primary").exists()  # failed before any node ran


def test_walkthrough_parameters_file_names_only_known_sections():
    walkthrough = yaml.safe_load((PROJECT_ROOT / "conf/walkthrough/parameters.yml").read_text())
    base = load_config(None, "parameters")
    for section, values in walkthrough.items():
        assert section in base
        for key in values:
            assert key in base[section], f"{section}.{key} is not a base parameter"
