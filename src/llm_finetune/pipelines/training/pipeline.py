"""Wiring of the training pipeline."""

from kedro.pipeline import Node, Pipeline

from llm_finetune.pipelines.training import nodes


def create_pipeline(
    training: str = "params:training",
    tokenization: str = "params:training.tokenization",
    **kwargs,
) -> Pipeline:
    """The training pipeline; ``training`` and ``tokenization`` name the inputs holding those
    settings: the parameters by default, one dataset per configuration in the sweep.

    It reads the train and validation splits only; the test split is evaluation's."""
    return Pipeline(
        [
            Node(
                nodes.tokenize_datasets,
                inputs=["train_qa", "validation_qa", "base_model", tokenization],
                outputs=["tokenized_train", "tokenized_validation", "tokenization_stats"],
                name="tokenize_datasets",
            ),
            Node(
                nodes.fine_tune,
                inputs=[
                    "base_model",
                    "tokenized_train",
                    "tokenized_validation",
                    training,
                    "params:generation",
                ],
                outputs=["fine_tuned_model", "training_metrics"],
                name="fine_tune",
            ),
            Node(nodes.plot_loss, inputs="training_metrics", outputs="loss_plot", name="plot_loss"),
            Node(
                nodes.plot_learning_rate,
                inputs="training_metrics",
                outputs="learning_rate_plot",
                name="plot_learning_rate",
            ),
            Node(
                nodes.build_model_report,
                inputs=["training_metrics", "tokenization_stats"],
                outputs="model_report",
                name="build_model_report",
            ),
        ]
    )
