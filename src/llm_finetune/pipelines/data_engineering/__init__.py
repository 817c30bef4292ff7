"""Raw dialogues to clean, templated, leakage-free JSONL."""

from llm_finetune.pipelines.data_engineering.pipeline import create_pipeline

__all__ = ["create_pipeline"]
