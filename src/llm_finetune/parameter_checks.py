"""Fail a run on bad settings before any node runs (so before any model is loaded).

Every typed settings class is built from the run's parameters (``llm_finetune.config``: data
engineering, training, evaluation; ``GenerationSettings``), as the nodes build them, so an unknown
key or an unusable value fails at once, naming the full key and its pipeline
(``training.lora.rnk: unknown key (training pipeline; known: enabled, r, ...)``). That is cheap:
nothing heavy is imported. When the run trains, the ``training.trainer`` keys are also checked
against Hugging Face ``TrainingArguments`` (importing transformers costs seconds), and the training
settings against the device. The infrastructure sizing's settings are checked when present. The
nodes check the same rules again, for callers that use them without Kedro."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from llm_finetune.config import DataEngineeringSettings, EvaluationSettings, TrainingSettings
from llm_finetune.generation import GenerationSettings
from llm_finetune.pipelines.sweep.grid import check_sweep_keys
from llm_finetune.pipelines.training.nodes import fine_tune
from llm_finetune.pipelines.training.sizing_inputs import check_sizing_settings


def check_parameters(parameters: Mapping[str, Any], trains: bool = False) -> None:
    """Raise ``ValueError`` naming the parameter when a setting is unusable; ``trains``: the run
    fine-tunes, so the ``training.trainer`` keys are checked against ``TrainingArguments`` too."""
    DataEngineeringSettings.from_params(parameters.get("data_engineering"))
    GenerationSettings.from_params(parameters.get("generation"))
    EvaluationSettings.from_params(parameters.get("evaluation"))
    training = TrainingSettings.from_params(parameters.get("training"))
    if "infrastructure_sizing" in parameters:
        check_sizing_settings(parameters["infrastructure_sizing"])
    check_sweep_keys(parameters.get("sweep"))
    if trains:
        from llm_finetune.hardware import select_device

        training.trainer.check_extra_keys()
        training.check_device(select_device().type)


class ParameterChecks:
    """Runs :func:`check_parameters` before the pipeline."""

    # tryfirst: before the tracking hook starts an MLflow run (pluggy calls the hook registered
    # last first), so a bad setting leaves nothing behind.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        trains = any(node.func is fine_tune for node in pipeline.nodes)
        check_parameters(catalog.load("parameters"), trains=trains)
