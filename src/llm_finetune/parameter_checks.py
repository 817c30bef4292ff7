"""Fail a run on bad settings before any node runs (so before any model is loaded): the split
fractions, the generation settings and the number of evaluation questions. The nodes check the
same rules again (one function each), for callers that use them without Kedro."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from llm_finetune.generation import GenerationSettings
from llm_finetune.pipelines.data_engineering.nodes import check_split_fractions
from llm_finetune.pipelines.evaluation.nodes import check_num_questions


def check_parameters(parameters: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the parameter when a setting is unusable."""
    data = parameters.get("data_engineering") or {}
    check_split_fractions(data.get("validation_fraction"), data.get("test_fraction"))
    GenerationSettings.from_params(parameters.get("generation"))
    check_num_questions((parameters.get("evaluation") or {}).get("num_questions"))


class ParameterChecks:
    """Runs :func:`check_parameters` before the pipeline."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        check_parameters(catalog.load("parameters"))
