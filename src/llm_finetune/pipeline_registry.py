"""Project pipelines."""

from kedro.pipeline import Pipeline

from llm_finetune.pipelines import (
    benchmarks,
    cross_validation,
    data_engineering,
    evaluation,
    human_evaluation,
    sweep,
    training,
)


def register_pipelines() -> dict[str, Pipeline]:
    """``__default__`` runs data_engineering, training and evaluation in order; ``sweep`` (run on
    its own) trains and evaluates every configuration of the sweep parameters; ``benchmarks`` (run
    on its own) scores the base and the latest fine-tuned model on standard benchmarks;
    ``cross_validation`` (run on its own) compares two settings over k folds of train +
    validation; ``human_evaluation`` (run on its own) fits the leaderboard of the rating page's
    votes."""
    pipelines = {
        "data_engineering": data_engineering.create_pipeline(),
        "training": training.create_pipeline(),
        "evaluation": evaluation.create_pipeline(),
    }
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    pipelines["sweep"] = sweep.create_pipeline()
    pipelines["benchmarks"] = benchmarks.create_pipeline()
    pipelines["cross_validation"] = cross_validation.create_pipeline()
    pipelines["human_evaluation"] = human_evaluation.create_pipeline()
    return pipelines
