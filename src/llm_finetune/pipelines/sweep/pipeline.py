"""Wiring of the sweep: namespaced copies of the training and evaluation pipelines, one per
configuration of the sweep, around a shared base-model evaluation.

``sweep`` namespace (once): the evaluation settings (``evaluation`` + ``sweep.evaluation``), the
validation split tokenized with the sweep's tokenization, the eval questions, and the base model's
answers and perplexity. The sweep chooses settings, so it scores on the validation split: the
test split stays unseen by every choice. ``sweep.<configuration>`` namespace (per
configuration): its ``training`` block (``training`` + ``sweep.training`` + its overrides, built
by a node), the training pipeline, the fine-tuned half of the evaluation pipeline on the shared
validation split, and a summary row.
``sweep_results`` and ``sweep_plot`` gather the rows.

The configurations' names are read from the configuration files when the pipelines are built
(Kedro's "dynamic pipelines" pattern); their settings come from the run's parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline, pipeline

from llm_finetune.pipelines import evaluation, training
from llm_finetune.pipelines.sweep import nodes
from llm_finetune.pipelines.sweep.grid import (
    SWEEP_NAMESPACE,
    Configuration,
    configured_sweep,
    expand,
)

logger = logging.getLogger(__name__)

#: Evaluation nodes that do not depend on the configuration: run once, in the sweep namespace.
SHARED_EVALUATION_NODES = (
    "tokenize_test",
    "select_eval_questions",
    "render_off_topic_prompts",
    "evaluate_base_model",
)
#: Datasets of the shared part that every configuration's evaluation reads.
SHARED_EVALUATION_DATASETS = (
    "eval_questions",
    "off_topic_prompts",
    "tokenized_test",
    "base_answers",
    "base_off_topic_answers",
    "base_perplexity",
    "evaluation_params",
    "off_topic_questions",
)
#: Project inputs every namespace reads under their own names.
PROJECT_INPUTS = {"train_qa", "validation_qa", "base_model"}
#: The evaluation pipeline's test split is the validation split in the sweep.
EVALUATED_SPLIT = {"test_qa": "validation_qa"}
SWEEP_OUTPUTS = {"sweep_results", "sweep_plot"}


def create_pipeline(configurations: Sequence[str] | None = None, **kwargs) -> Pipeline:
    """The sweep over ``configurations`` (names), by default those of the configuration files.

    Invalid or missing sweep parameters do not break ``register_pipelines`` (and so every other
    pipeline): the sweep then holds one node that fails with the error when the sweep is run.
    """
    if configurations is None:
        try:
            configurations = [c.name for c in expand(configured_sweep())]
        except Exception as error:  # the configuration files' problem, reported on a sweep run
            logger.debug("the sweep's configurations are not usable: %s", error)
            failing = Node(
                nodes.invalid_sweep(error),
                inputs=None,
                outputs="sweep_results",
                name="invalid_sweep_configuration",
            )
            return pipeline([failing], namespace=SWEEP_NAMESPACE, outputs={"sweep_results"})
    return (
        shared_pipeline()
        + sum((configuration_pipeline(name) for name in configurations), Pipeline([]))
        + results_pipeline(configurations)
    )


def _training() -> Pipeline:
    return training.create_pipeline(
        training="training_params", tokenization="tokenization_params", with_sizing=False
    )


def _evaluation() -> Pipeline:
    return evaluation.create_pipeline(
        evaluation="evaluation_params",
        off_topic_questions="off_topic_questions",
        tokenization="tokenization_params",
    )


def shared_pipeline() -> Pipeline:
    """Settings, the tokenized validation set and the base model's evaluation, once per sweep."""
    settings = Pipeline(
        [
            Node(
                nodes.configure_evaluation,
                inputs=["params:evaluation", "params:sweep.evaluation"],
                outputs=["evaluation_params", "off_topic_questions"],
                name="configure_evaluation",
            ),
            Node(
                nodes.configure_tokenization,
                inputs=["params:training", "params:sweep.training"],
                outputs="tokenization_params",
                name="configure_tokenization",
            ),
        ]
    )
    base_evaluation = _evaluation().only_nodes(*SHARED_EVALUATION_NODES)
    return pipeline(
        settings + base_evaluation,
        namespace=SWEEP_NAMESPACE,
        inputs={"base_model": "base_model", **EVALUATED_SPLIT},
        parameters={
            "evaluation",
            "sweep.evaluation",
            "training",
            "sweep.training",
            "prompt_template",
            "generation",
        },
    )


def configuration_pipeline(name: str) -> Pipeline:
    """One configuration, in namespace ``sweep.<name>``: settings, training, evaluation, summary."""
    namespace = Configuration(name).namespace
    configure = pipeline(
        [
            Node(
                nodes.configure_training_for(name),
                inputs=["params:training", "params:sweep"],
                outputs=["configuration", "training_params", "tokenization_params"],
                name="configure_training",
            )
        ],
        namespace=namespace,
        parameters={"training", "sweep"},
    )
    trained = pipeline(
        _training(), namespace=namespace, inputs=PROJECT_INPUTS, parameters={"generation"}
    )
    full_evaluation = _evaluation()
    fine_tuned_evaluation = full_evaluation - full_evaluation.only_nodes(*SHARED_EVALUATION_NODES)
    evaluated = pipeline(
        fine_tuned_evaluation,
        namespace=namespace,
        inputs={name: f"{SWEEP_NAMESPACE}.{name}" for name in SHARED_EVALUATION_DATASETS},
        parameters={"prompt_template", "generation"} & _parameter_names(fine_tuned_evaluation),
    )
    summary = pipeline(
        [
            Node(
                nodes.summarize_configuration,
                inputs=["configuration", "training_metrics", "evaluation_metrics"],
                outputs="summary",
                name="summarize_configuration",
            )
        ],
        namespace=namespace,
    )
    return configure + trained + evaluated + summary


def results_pipeline(configurations: Sequence[str]) -> Pipeline:
    """``sweep_results`` (one row per configuration) and ``sweep_plot``."""
    # Placeholders first (a node's own dataset names carry no namespace), mapped below.
    summaries = {
        f"summary_{index}": f"{Configuration(name).namespace}.summary"
        for index, name in enumerate(configurations)
    }
    return pipeline(
        [
            Node(
                nodes.build_sweep_results,
                inputs=list(summaries),
                outputs="sweep_results",
                name="build_sweep_results",
            ),
            Node(nodes.plot_sweep, inputs=list(summaries), outputs="sweep_plot", name="plot_sweep"),
        ],
        namespace=SWEEP_NAMESPACE,
        inputs=summaries,
        outputs=SWEEP_OUTPUTS,
    )


def _parameter_names(pipe: Pipeline) -> set[str]:
    return {name.removeprefix("params:") for name in pipe.inputs() if name.startswith("params:")}
