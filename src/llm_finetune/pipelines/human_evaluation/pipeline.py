"""Wiring of the human_evaluation pipeline (``kedro run --pipelines human_evaluation``): the votes
of the rating page (``python -m llm_finetune.rating``) -> the leaderboard and its HTML page."""

from kedro.pipeline import Node, Pipeline

from llm_finetune.pipelines.human_evaluation import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.build_leaderboard,
                inputs=["human_votes", "params:human_evaluation"],
                outputs="human_leaderboard",
                name="build_leaderboard",
            ),
            Node(
                nodes.render_leaderboard_html,
                inputs="human_leaderboard",
                outputs="leaderboard_html",
                name="render_leaderboard_html",
            ),
        ]
    )
