"""``kedro run --pipelines human_evaluation`` end to end, tracked: votes in the catalog's
``human_votes`` (one corrupt line among them) -> the versioned leaderboard JSON and HTML, logged
to MLflow as artifacts and metrics by their catalog metadata alone."""

from __future__ import annotations

import pytest

from llm_finetune.datasets import VotesDataset
from llm_finetune.pipeline_registry import register_pipelines
from llm_finetune.rating.pairs import ModelVersion
from llm_finetune.rating.votes import make_vote
from tests.mlflow_support import artifact_names, copy_project, run_tracked

A = ModelVersion("base_answers", "2026-01-01T00.00.00.000Z")
B = ModelVersion("fine_tuned_answers", "2026-01-02T00.00.00.000Z")


def test_the_pipeline_is_registered_on_its_own():
    pipelines = register_pipelines()
    names = {node.name for node in pipelines["human_evaluation"].nodes}
    assert names == {"build_leaderboard", "render_leaderboard_html"}
    assert not names & {node.name for node in pipelines["__default__"].nodes}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("human") / "project", "human_evaluation")
    votes = VotesDataset(filepath=project / "data/07_model_output/human_votes.jsonl")
    for n in range(12):
        left, right = (A, B) if n % 2 else (B, A)
        choice = "b_better" if n % 2 else "a_better"  # B wins every vote, on either side
        votes.append(make_vote(f"q{n}", left, right, choice, "ann", note="<i>n</i>"))
    with open(votes.filepath, "ab") as file:
        file.write(b'{"torn": ')
    result = run_tracked(project, ["human_evaluation"], {"human_evaluation": {"seed": 3}})
    from kedro.framework.session import KedroSession

    with KedroSession.create(project_path=project) as session:
        catalog = session.load_context().catalog
        result["leaderboard"] = catalog.load("human_leaderboard")
        result["html"] = catalog.load("leaderboard_html")
    return result


def test_the_leaderboard_is_saved_and_ranks_the_winner_first(finished_run):
    board = finished_run["leaderboard"]
    assert board["votes"] == 12 and board["settings"]["seed"] == 3
    assert [row["model"] for row in board["models"]] == [B.label, A.label]
    assert "&lt;i&gt;n&lt;/i&gt;" in finished_run["html"] and "<i>n" not in finished_run["html"]


def test_the_leaderboard_is_tracked_by_its_catalog_entries(finished_run):
    run, client = finished_run["run"], finished_run["client"]
    assert {"human_leaderboard.json", "leaderboard.html"} <= artifact_names(client, run.info.run_id)
    metrics = run.data.metrics
    assert metrics["human_evaluation.votes"] == 12
    assert metrics[f"human_evaluation.{B.dataset}/{B.version}.score"] > 0
