"""The human_evaluation pipeline: the leaderboard of model versions from the rating page's votes."""

from llm_finetune.pipelines.human_evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
