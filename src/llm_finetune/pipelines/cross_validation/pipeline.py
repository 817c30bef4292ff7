"""Wiring of cross-validation: namespaced copies of the training pipeline, one per setting and
fold, around the shared folds, and the results.

``cross_validation`` namespace (once): the two settings' ``training``, ``tokenization`` and
``generation`` blocks (``configure_cross_validation``) and the folds of train + validation
grouped by question (``assign_folds``: per fold, its training rows and its scored held-out rows).
The test split is never read. ``cross_validation.<setting>.fold_<i>`` namespace (per setting and
fold): tokenize and fine-tune on the fold's training rows (eval loss on its held-out rows), then
``score_fold`` on the held-out rows. ``build_cross_validation_results`` gathers every fold, and
``render_cross_validation_report`` writes the page.

How many folds exist comes from the run's parameters (``cross_validation.k``; ``--env`` and
``--params`` choose it), recorded before the pipelines are built (``llm_finetune.run_parameters``),
as for the sweep.
"""

from __future__ import annotations

import logging

from kedro.pipeline import Node, Pipeline, pipeline

from llm_finetune.config.cross_validation import SETTINGS, CrossValidationSettings
from llm_finetune.pipelines import training
from llm_finetune.pipelines.cross_validation import nodes
from llm_finetune.pipelines.cross_validation.folds import (
    CV_NAMESPACE,
    configured_cross_validation,
    fold_name,
)

logger = logging.getLogger(__name__)

#: Project inputs every fold reads under their own names (the test split is not one of them).
PROJECT_INPUTS = {"base_model", "base_tokenizer"}
SPLITS_READ = {"train_qa", "validation_qa"}
OUTPUTS = {"cross_validation_results", "cross_validation_answers", "cross_validation_report"}
#: What a fold's training reads and writes, by the names of the settings blocks.
_SETTING_DATASETS = (
    "training_params",
    "tokenization_params",
    "generation_params",
    "data_params",
)


def create_pipeline(k: int | None = None, **kwargs) -> Pipeline:
    """Cross-validation with ``k`` folds, by default the run's ``cross_validation.k``.

    Invalid or missing parameters do not break ``register_pipelines`` (and so every other
    pipeline): the pipeline then holds only ``configure_cross_validation``, which fails with the
    error when cross-validation is run.
    """
    if k is None:
        try:
            k = CrossValidationSettings.from_params(configured_cross_validation()).k
        except Exception as error:  # the parameters' problem, reported on a run
            logger.debug("the cross-validation parameters are not usable: %s", error)
            return pipeline([_configure()], namespace=CV_NAMESPACE, parameters={"cross_validation"})
    return (
        shared_pipeline(k)
        + sum(
            (fold_pipeline(setting, index) for setting in SETTINGS for index in range(k)),
            Pipeline([]),
        )
        + results_pipeline(k)
    )


def _configure() -> Node:
    return Node(
        nodes.configure_cross_validation,
        inputs=[
            "params:cross_validation",
            "params:training",
            "params:generation",
            "params:data_engineering",
        ],
        # Placeholders (a node's own dataset names carry no dots), mapped to each setting's
        # namespace by shared_pipeline.
        outputs=[f"{setting}_{name}" for setting in SETTINGS for name in _SETTING_DATASETS],
        name="configure_cross_validation",
    )


def shared_pipeline(k: int) -> Pipeline:
    """In the ``cross_validation`` namespace: the settings and the folds."""
    fold_outputs = [
        f"{fold_name(index)}_{part}" for index in range(k) for part in ("train_qa", "held_out_qa")
    ]
    shared = Pipeline(
        [
            _configure(),
            Node(
                nodes.assign_folds,
                inputs=["train_qa", "validation_qa", "params:cross_validation"],
                outputs=["folds", *fold_outputs],
                name="assign_folds",
            ),
        ]
    )
    outputs = {
        f"{setting}_{name}": f"{CV_NAMESPACE}.{setting}.{name}"
        for setting in SETTINGS
        for name in _SETTING_DATASETS
    }
    outputs.update(
        {
            f"{fold_name(index)}_{part}": f"{CV_NAMESPACE}.{fold_name(index)}.{part}"
            for index in range(k)
            for part in ("train_qa", "held_out_qa")
        }
    )
    return pipeline(
        shared,
        namespace=CV_NAMESPACE,
        inputs=SPLITS_READ,
        outputs=outputs,
        parameters={"cross_validation", "training", "generation", "data_engineering"},
    )


def fold_pipeline(setting: str, index: int) -> Pipeline:
    """One fold of one setting, in namespace ``cross_validation.<setting>.fold_<index>``: train on
    the other folds (tokenize and fine-tune only), score on the held-out rows."""
    namespace = f"{CV_NAMESPACE}.{setting}.{fold_name(index)}"
    trained = training.create_pipeline(
        training="training_params", tokenization="tokenization_params", with_sizing=False
    ).only_nodes("tokenize_datasets", "fine_tune")
    prepared = Pipeline(
        [
            Node(
                nodes.prepare_fold,
                inputs=[
                    "fold_train_qa",
                    "fold_held_out_qa",
                    "data_params",
                    "base_tokenizer",
                    "params:prompt_template",
                    "params:evaluation.system_prompt",
                ],
                outputs=["train_qa", "validation_qa", "prompt_format"],
                name="prepare_fold",
            )
        ]
    )
    scored = Pipeline(
        [
            Node(
                nodes.score_fold,
                inputs=[
                    "fine_tuned_model",
                    "validation_qa",
                    "tokenized_validation",
                    "training_metrics",
                    "generation_params",
                    "params:evaluation",
                    "prompt_format",
                ],
                outputs="scores",
                name="score_fold",
            )
        ]
    )
    inputs = {name: name for name in PROJECT_INPUTS}
    inputs["fold_train_qa"] = f"{CV_NAMESPACE}.{fold_name(index)}.train_qa"
    # The fold's eval loss and its scores: its held-out rows, rendered in the setting's format
    # under the training pipeline's name (validation_qa).
    inputs["fold_held_out_qa"] = f"{CV_NAMESPACE}.{fold_name(index)}.held_out_qa"
    inputs.update({name: f"{CV_NAMESPACE}.{setting}.{name}" for name in _SETTING_DATASETS})
    return pipeline(
        prepared + trained + scored,
        namespace=namespace,
        inputs=inputs,
        parameters={"generation", "evaluation", "evaluation.system_prompt", "prompt_template"},
    )


def results_pipeline(k: int) -> Pipeline:
    """``cross_validation_results``, ``cross_validation_answers`` and the report."""
    folds = [(setting, fold_name(index)) for setting in SETTINGS for index in range(k)]
    scores = {
        f"{setting}_{fold}_scores": f"{CV_NAMESPACE}.{setting}.{fold}.scores"
        for setting, fold in folds
    }
    return pipeline(
        [
            Node(
                nodes.build_cross_validation_results,
                inputs=["folds", "params:cross_validation", *scores],
                outputs=["cross_validation_results", "cross_validation_answers"],
                name="build_cross_validation_results",
            ),
            Node(
                nodes.render_cross_validation_report,
                inputs="cross_validation_results",
                outputs="cross_validation_report",
                name="render_cross_validation_report",
            ),
        ],
        namespace=CV_NAMESPACE,
        inputs=scores,
        outputs=OUTPUTS,
        parameters={"cross_validation"},
    )
