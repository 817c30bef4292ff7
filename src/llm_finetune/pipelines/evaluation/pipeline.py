"""Wiring of the evaluation pipeline.

Each model is loaded by exactly one node (``evaluate_base_model`` / ``evaluate_fine_tuned_model``),
which computes its perplexity and generates all its answers; the report nodes only reuse them.
"""

from kedro.pipeline import Node, Pipeline

from llm_finetune.pipelines.evaluation import nodes, plots


def create_pipeline(
    evaluation: str = "params:evaluation",
    off_topic_questions: str = "params:evaluation.off_topic_prompts",
    tokenization: str = "params:training.tokenization",
    **kwargs,
) -> Pipeline:
    """The evaluation pipeline; the first three arguments name the inputs holding those settings:
    the parameters by default, datasets in the sweep (which evaluates with its own settings).

    The only reader of the test split (``test_qa``): it tokenizes it as training tokenizes."""
    evaluate_nodes = [
        Node(
            nodes.evaluate_model,
            inputs=[
                f"{model}_model",
                "eval_questions",
                "off_topic_prompts",
                "tokenized_test",
                evaluation,
                "params:generation",
            ],
            outputs=[f"{model}_answers", f"{model}_off_topic_answers", f"{model}_perplexity"],
            name=f"evaluate_{model}_model",
        )
        for model in nodes.MODELS
    ]
    return Pipeline(
        [
            Node(
                nodes.tokenize_test,
                inputs=["test_qa", "base_model", tokenization],
                outputs="tokenized_test",
                name="tokenize_test",
            ),
            Node(
                nodes.select_eval_questions,
                inputs=["test_qa", evaluation],
                outputs="eval_questions",
                name="select_eval_questions",
            ),
            Node(
                nodes.render_off_topic_prompts,
                inputs=[off_topic_questions, "params:prompt_template"],
                outputs="off_topic_prompts",
                name="render_off_topic_prompts",
            ),
            *evaluate_nodes,
            Node(
                nodes.build_comparison_table,
                inputs=["eval_questions", "base_answers", "fine_tuned_answers"],
                outputs="comparison_table",
                name="build_comparison_table",
            ),
            Node(
                nodes.build_evaluation_metrics,
                inputs=[
                    "comparison_table",
                    "tokenized_test",
                    "base_perplexity",
                    "fine_tuned_perplexity",
                    "params:generation",
                ],
                outputs="evaluation_metrics",
                name="build_evaluation_metrics",
            ),
            Node(
                nodes.build_off_topic_probe,
                inputs=[
                    off_topic_questions,
                    "base_off_topic_answers",
                    "fine_tuned_off_topic_answers",
                ],
                outputs="off_topic_probe",
                name="build_off_topic_probe",
            ),
            Node(
                nodes.render_comparison_html,
                inputs=["comparison_table", "evaluation_metrics"],
                outputs="comparison_table_html",
                name="render_comparison_html",
            ),
            Node(
                plots.plot_metrics,
                inputs=["evaluation_metrics", "training_metrics"],
                outputs="metrics_plot",
                name="plot_metrics",
            ),
        ]
    )
