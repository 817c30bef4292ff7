"""Hyperparameter sweep: ``kedro run --pipelines sweep`` trains and evaluates every configuration
of ``sweep.configurations`` and ``sweep.grid`` (conf/base/parameters_sweep.yml) in its own
namespace."""

from llm_finetune.pipelines.sweep.pipeline import create_pipeline

__all__ = ["create_pipeline"]
