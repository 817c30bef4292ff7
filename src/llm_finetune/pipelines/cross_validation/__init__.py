"""Cross-validation: ``kedro run --pipeline cross_validation`` trains k folds of train + validation
(grouped by question) for a baseline and a candidate setting, scores each on its held-out fold and
compares the two settings fold by fold (conf/base/parameters_cross_validation.yml)."""

from llm_finetune.pipelines.cross_validation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
