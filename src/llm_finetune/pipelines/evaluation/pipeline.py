"""Wiring of the evaluation pipeline, in two parts the sweep reuses: what depends on the base model
only (run once per sweep) and what depends on the fine-tuned model (run per configuration).

Each model is loaded and run by one node per format (``evaluate_base_model``, in the walkthrough's
template; ``evaluate_base_model_in_chat_format``, in its own chat template;
``evaluate_fine_tuned_model``), which computes its perplexity and generates all its answers (test
questions and probes); the report nodes only reuse them.
"""

from kedro.pipeline import Node, Pipeline

from llm_finetune.pipelines.evaluation import nodes, plots, probes, report_html, summary


def create_pipeline(
    evaluation: str = "params:evaluation",
    off_topic_questions: str = "params:evaluation.off_topic_prompts",
    tokenization: str = "params:training.tokenization",
    **kwargs,
) -> Pipeline:
    """The evaluation pipeline; the arguments name the inputs holding those settings: the
    parameters by default, datasets in the sweep (which evaluates with its own settings).

    The only reader of the test split (``test_qa``): it tokenizes it as training tokenizes."""
    return base_model_evaluation(
        evaluation, off_topic_questions, tokenization
    ) + fine_tuned_evaluation(evaluation, off_topic_questions)


def base_model_evaluation(
    evaluation: str = "params:evaluation",
    off_topic_questions: str = "params:evaluation.off_topic_prompts",
    tokenization: str = "params:training.tokenization",
) -> Pipeline:
    """The test split tokenized, the questions and probes, and the base model's answers and
    perplexity: nothing here depends on the fine-tuned model."""
    return Pipeline(
        [
            Node(
                nodes.tokenize_test,
                inputs=["test_qa", "base_tokenizer", tokenization],
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
                inputs=[off_topic_questions, "prompt_format"],
                outputs="off_topic_prompts",
                name="render_off_topic_prompts",
            ),
            Node(
                probes.select_probe_questions,
                inputs=["red_flag_questions", "bias_question_pairs"],
                outputs="probe_questions",
                name="select_probe_questions",
            ),
            Node(
                nodes.evaluate_base_model,
                inputs=_evaluate_inputs("base_model", evaluation),
                outputs=[
                    "base_answers",
                    "base_off_topic_answers",
                    "base_probe_answers",
                    "base_perplexity",
                ],
                name="evaluate_base_model",
            ),
            Node(
                nodes.evaluate_base_model_in_chat_format,
                inputs=[
                    "base_model",
                    "test_qa",
                    "eval_questions",
                    "probe_questions",
                    tokenization,
                    evaluation,
                    "params:generation",
                    "prompt_format",
                ],
                outputs=["base_chat_answers", "base_chat_probe_answers", "base_chat_perplexity"],
                name="evaluate_base_model_in_chat_format",
            ),
        ]
    )


def fine_tuned_evaluation(
    evaluation: str = "params:evaluation",
    off_topic_questions: str = "params:evaluation.off_topic_prompts",
) -> Pipeline:
    """The fine-tuned model's answers and perplexity, and every report comparing both models."""
    return Pipeline(
        [
            Node(
                nodes.evaluate_fine_tuned_model,
                inputs=_evaluate_inputs("fine_tuned_model", evaluation),
                outputs=[
                    "fine_tuned_answers",
                    "fine_tuned_off_topic_answers",
                    "fine_tuned_probe_answers",
                    "fine_tuned_perplexity",
                ],
                name="evaluate_fine_tuned_model",
            ),
            Node(
                nodes.build_comparison_table,
                inputs=[
                    "eval_questions",
                    "base_answers",
                    "base_chat_answers",
                    "fine_tuned_answers",
                ],
                outputs="comparison_table",
                name="build_comparison_table",
            ),
            Node(
                summary.build_evaluation_metrics,
                inputs=[
                    "comparison_table",
                    "tokenized_test",
                    "base_perplexity",
                    "base_chat_perplexity",
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
                nodes.build_error_analysis,
                inputs=["comparison_table", "train_qa"],
                outputs="error_analysis",
                name="build_error_analysis",
            ),
            Node(
                probes.build_safety_probe,
                inputs=[*_probe_inputs()[:1], "eval_questions", *_probe_inputs()[1:]],
                outputs="safety_probe",
                name="build_safety_probe",
            ),
            Node(
                probes.build_bias_probe,
                inputs=_probe_inputs(),
                outputs="bias_probe",
                name="build_bias_probe",
            ),
            Node(
                report_html.render_comparison_html,
                inputs=[
                    "comparison_table",
                    "evaluation_metrics",
                    "error_analysis",
                    "safety_probe",
                    "bias_probe",
                ],
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


def _probe_inputs() -> list[str]:
    return [
        "probe_questions",
        "base_probe_answers",
        "base_chat_probe_answers",
        "fine_tuned_probe_answers",
    ]


def _evaluate_inputs(model: str, evaluation: str) -> list[str]:
    return [
        model,
        "eval_questions",
        "off_topic_prompts",
        "probe_questions",
        "tokenized_test",
        evaluation,
        "params:generation",
        "prompt_format",
    ]
