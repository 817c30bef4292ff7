"""Project pipelines."""

from kedro.pipeline import Pipeline

from llm_finetune.pipelines import benchmarks, data_engineering, evaluation, sweep, training


def register_pipelines() -> dict[str, Pipeline]:
    """``__default__`` runs data_engineering, training and evaluation in order; ``sweep`` (run on
    its own) trains and evaluates every configuration of the sweep parameters; ``benchmarks`` (run
    on its own) scores the base and the latest fine-tuned model on standard benchmarks."""
    pipelines = {
        "data_engineering": data_engineering.create_pipeline(),
        "training": training.create_pipeline(),
        "evaluation": evaluation.create_pipeline(),
    }
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    pipelines["sweep"] = sweep.create_pipeline()
    pipelines["benchmarks"] = benchmarks.create_pipeline()
    return pipelines
