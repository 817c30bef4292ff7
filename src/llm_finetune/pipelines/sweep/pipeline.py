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

The configurations come from the run's parameters (``--env`` and ``--params`` choose them): the
run's parameters are recorded when its context is created, before the pipelines are built
(``llm_finetune.run_parameters``; Kedro's "dynamic pipelines" pattern).
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

#: Project inputs every namespace reads under their own names.
PROJECT_INPUTS = {
    "train_qa",
    "validation_qa",
    "base_model",
    "base_tokenizer",
    "base_model_skeleton",
    "prompt_format",
}
#: The hand-written probe sets every model is asked (data/01_raw/safety).
PROBE_SETS = ("red_flag_questions", "bias_question_pairs")
#: The evaluation pipeline's test split is the validation split in the sweep.
EVALUATED_SPLIT = {"test_qa": "validation_qa"}
SWEEP_OUTPUTS = {"sweep_results", "sweep_plot"}


def create_pipeline(configurations: Sequence[str] | None = None, **kwargs) -> Pipeline:
    """The sweep over ``configurations`` (names), by default those of the run's parameters.

    Invalid or missing sweep parameters do not break ``register_pipelines`` (and so every other
    pipeline): the sweep then holds only ``expand_sweep``, which fails with the error when the
    sweep is run.
    """
    if configurations is None:
        try:
            configurations = [c.name for c in expand(configured_sweep())]
        except Exception as error:  # the parameters' problem, reported on a sweep run
            logger.debug("the sweep's configurations are not usable: %s", error)
            return pipeline([_expand_sweep([])], namespace=SWEEP_NAMESPACE, parameters={"sweep"})
    shared = shared_pipeline(configurations)
    return (
        shared
        + sum(
            (configuration_pipeline(name, shared.all_outputs()) for name in configurations),
            Pipeline([]),
        )
        + results_pipeline(configurations)
    )


def _expand_sweep(configurations: Sequence[str]) -> Node:
    return Node(
        nodes.expand_sweep,
        inputs="params:sweep",
        # Placeholders (a node's own dataset names carry no dots), mapped to each namespace's
        # ``configuration`` by shared_pipeline.
        outputs=[f"configuration_{index}" for index in range(len(configurations))]
        or "configurations",
        name="expand_sweep",
    )


def _training() -> Pipeline:
    return training.create_pipeline(
        training="training_params", tokenization="tokenization_params", with_sizing=False
    )


def shared_pipeline(configurations: Sequence[str]) -> Pipeline:
    """In the ``sweep`` namespace, once: the configurations, the evaluation settings, the
    tokenized validation set and the base model's evaluation."""
    settings = Pipeline(
        [
            _expand_sweep(configurations),
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
    base_evaluation = evaluation.base_model_evaluation(
        "evaluation_params", "off_topic_questions", "tokenization_params"
    )
    return pipeline(
        settings + base_evaluation,
        namespace=SWEEP_NAMESPACE,
        inputs={
            **{
                name: name
                for name in ("base_model", "base_tokenizer", "prompt_format", *PROBE_SETS)
            },
            **EVALUATED_SPLIT,
        },
        outputs={
            f"configuration_{index}": f"{Configuration(name).namespace}.configuration"
            for index, name in enumerate(configurations)
        },
        parameters=_parameter_names(settings + base_evaluation),
    )


def configuration_pipeline(name: str, shared_outputs: set[str]) -> Pipeline:
    """One configuration, in namespace ``sweep.<name>``: settings, training, the fine-tuned half of
    the evaluation (reading the shared half's ``shared_outputs``), and a summary row."""
    namespace = Configuration(name).namespace
    configure = pipeline(
        [
            Node(
                nodes.configure_training,
                inputs=["params:training", "params:sweep", "configuration"],
                outputs=["training_params", "tokenization_params"],
                name="configure_training",
            )
        ],
        namespace=namespace,
        parameters={"training", "sweep"},
    )
    trained = pipeline(
        _training(),
        namespace=namespace,
        inputs=PROJECT_INPUTS,
        parameters={"generation"},
    )
    fine_tuned = evaluation.fine_tuned_evaluation("evaluation_params", "off_topic_questions")
    shared = {
        dataset: f"{SWEEP_NAMESPACE}.{dataset}"
        for dataset in fine_tuned.inputs()
        if f"{SWEEP_NAMESPACE}.{dataset}" in shared_outputs
    }
    evaluated = pipeline(
        fine_tuned,
        namespace=namespace,
        inputs={**shared, "train_qa": "train_qa", "prompt_format": "prompt_format"},
        parameters=_parameter_names(fine_tuned),
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
