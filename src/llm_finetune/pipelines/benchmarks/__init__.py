"""The benchmarks pipeline: base vs fine-tuned on standard multiple-choice benchmarks."""

from llm_finetune.pipelines.benchmarks.pipeline import create_pipeline

__all__ = ["create_pipeline"]
