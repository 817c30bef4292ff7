"""Fail a run on bad settings before any node runs (so before any model is loaded): the split
fractions, the generation settings, the number of evaluation questions, the infrastructure
sizing's settings and, when the run trains, the trainer's keys. The nodes check the same rules
again (one function each), for callers that use them without Kedro."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from llm_finetune.generation import GenerationSettings
from llm_finetune.pipelines.data_engineering.nodes import check_split_fractions
from llm_finetune.pipelines.evaluation.nodes import check_num_questions
from llm_finetune.pipelines.training.nodes import fine_tune
from llm_finetune.pipelines.training.sizing_inputs import check_sizing_settings
from llm_finetune.pipelines.training.trainer import check_trainer_keys


def check_parameters(parameters: Mapping[str, Any], trains: bool = False) -> None:
    """Raise ``ValueError`` naming the parameter when a setting is unusable; ``trains``: the run
    fine-tunes, so ``training.trainer`` is checked too (importing transformers costs seconds)."""
    data = parameters.get("data_engineering") or {}
    check_split_fractions(data.get("validation_fraction"), data.get("test_fraction"))
    GenerationSettings.from_params(parameters.get("generation"))
    check_num_questions((parameters.get("evaluation") or {}).get("num_questions"))
    if "infrastructure_sizing" in parameters:
        check_sizing_settings(parameters["infrastructure_sizing"])
    if trains:
        check_trainer_keys((parameters.get("training") or {}).get("trainer") or {})


class ParameterChecks:
    """Runs :func:`check_parameters` before the pipeline."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        trains = any(node.func is fine_tune for node in pipeline.nodes)
        check_parameters(catalog.load("parameters"), trains=trains)
