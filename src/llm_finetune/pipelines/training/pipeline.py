"""Wiring of the training pipeline."""

from kedro.pipeline import Node, Pipeline

from llm_finetune.pipelines.training import model_facts, nodes, sizing, sizing_tables


def create_pipeline(
    training: str = "params:training",
    tokenization: str = "params:training.tokenization",
    with_sizing: bool = True,
    **kwargs,
) -> Pipeline:
    """The training pipeline; ``training`` and ``tokenization`` name the inputs holding those
    settings: the parameters by default, one dataset per configuration in the sweep.

    ``with_sizing``: include the infrastructure sizing (``params:infrastructure_sizing``). It is a
    fact of the base model and the GPUs, not of a training configuration, so the sweep's
    per-configuration copies of this pipeline leave it out.

    It reads the train and validation splits only; the test split is evaluation's. Only
    ``fine_tune`` reads the base model's weights: tokenizing takes ``base_tokenizer``, describing
    the architecture ``base_model_skeleton`` (``PretrainedModelDataset``'s ``part``)."""
    pipe = Pipeline(
        [
            Node(
                nodes.tokenize_datasets,
                inputs=["train_qa", "validation_qa", "base_tokenizer", tokenization],
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
                    "prompt_format",
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
                model_facts.summarize_architecture,
                inputs="base_model_skeleton",
                outputs="model_architecture",
                name="summarize_architecture",
            ),
            Node(
                model_facts.build_model_report,
                inputs=["training_metrics", "tokenization_stats", "model_architecture"],
                outputs="model_report",
                name="build_model_report",
            ),
        ]
    )
    if not with_sizing:
        return pipe
    return pipe + Pipeline(
        [
            Node(
                sizing.size_infrastructure,
                inputs=["model_architecture", "params:infrastructure_sizing"],
                outputs="infrastructure_sizing",
                name="size_infrastructure",
            ),
            Node(
                sizing_tables.render_infrastructure_sizing,
                inputs=["infrastructure_sizing", "params:infrastructure_sizing"],
                outputs=["infrastructure_sizing_html", "infrastructure_sizing_markdown"],
                name="render_infrastructure_sizing",
            ),
        ]
    )
