"""Fail a run on bad settings before any node runs (so before any model is loaded).

Every typed settings block (``llm_finetune.config``: data engineering, training, evaluation,
generation, infrastructure sizing, sweep) is built from the run's parameters, as the nodes build
them, so an unknown key or an unusable value fails at once, naming the full key and its pipeline
(``training.lora.rnk: unknown key (training pipeline; known: enabled, r, ...)``). That is cheap:
nothing heavy is imported, and no pipeline code. When the run trains, the run's Hugging Face
``TrainingArguments`` are built from the training settings too (importing transformers costs
seconds), so every ``training.trainer`` key and value is checked by the Trainer's own types, and
the training settings against the device. The nodes check the same rules again, for callers that
use them without Kedro."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from llm_finetune.config import (
    BenchmarksSettings,
    CrossValidationSettings,
    DataEngineeringSettings,
    EvaluationSettings,
    GenerationSettings,
    HumanEvaluationSettings,
    InfrastructureSizingSettings,
    SweepSettings,
    TrainingSettings,
)

#: The name of the node that fine-tunes (the training pipeline's, also inside the sweep's
#: namespaces: ``sweep.<configuration>.fine_tune``): a run holding one trains.
TRAINING_NODE = "fine_tune"


def check_parameters(parameters: Mapping[str, Any], trains: bool = False) -> None:
    """Raise ``ValueError`` naming the parameter when a setting is unusable; ``trains``: the run
    fine-tunes, so its ``TrainingArguments`` are built from ``training`` too."""
    DataEngineeringSettings.from_params(parameters.get("data_engineering"))
    GenerationSettings.from_params(parameters.get("generation"))
    EvaluationSettings.from_params(parameters.get("evaluation"))
    training = TrainingSettings.from_params(parameters.get("training"))
    if "infrastructure_sizing" in parameters:
        InfrastructureSizingSettings.from_params(parameters["infrastructure_sizing"])
    SweepSettings.from_params(parameters.get("sweep"))
    BenchmarksSettings.from_params(parameters.get("benchmarks"))
    CrossValidationSettings.from_params(parameters.get("cross_validation"))
    HumanEvaluationSettings.from_params(parameters.get("human_evaluation"))
    if trains:
        from llm_finetune.config.trainer_arguments import check_training_arguments
        from llm_finetune.hardware import select_device

        device_type = select_device().type
        training.check_device(device_type)
        check_training_arguments(training, device_type)


def trains(node_names: Iterable[str]) -> bool:
    """Whether a pipeline with these node names fine-tunes (holds :data:`TRAINING_NODE`)."""
    return any(name.rsplit(".", 1)[-1] == TRAINING_NODE for name in node_names)


class ParameterChecks:
    """Runs :func:`check_parameters` before the pipeline."""

    # tryfirst: before the tracking hook starts an MLflow run (pluggy calls the hook registered
    # last first), so a bad setting leaves nothing behind.
    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        run_trains = trains(node.name for node in pipeline.nodes)
        check_parameters(catalog.load("parameters"), trains=run_trains)
