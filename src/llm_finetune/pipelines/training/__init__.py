"""The training pipeline."""

from llm_finetune.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
