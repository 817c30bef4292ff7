"""The evaluation pipeline."""

from llm_finetune.pipelines.evaluation.pipeline import (
    base_model_evaluation,
    create_pipeline,
    fine_tuned_evaluation,
)

__all__ = ["base_model_evaluation", "create_pipeline", "fine_tuned_evaluation"]
