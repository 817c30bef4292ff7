"""The evaluation pipeline."""

from llm_finetune.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
