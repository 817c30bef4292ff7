"""The leaderboard: a known ranking recovered from simulated votes, ties as half wins, the same
result whatever the votes' order, agreement, tags, tampered records skipped, HTML escaped."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from llm_finetune.pipelines.human_evaluation.nodes import (
    build_leaderboard,
    fit_bradley_terry,
    rater_agreement,
    render_leaderboard_html,
)
from llm_finetune.rating.pairs import ModelVersion
from llm_finetune.rating.votes import make_vote

V1, V2, V3 = (ModelVersion("fine_tuned_answers", f"2026-01-0{i}T00.00.00.000Z") for i in (1, 2, 3))
FAST = {"bootstrap_samples": 200}


def vote(left, right, choice, rater="ann", question="q1", **kwargs):
    return make_vote(question, left, right, choice, rater, **kwargs)


def simulated_votes(strengths: dict[ModelVersion, float], count: int, seed: int) -> list[dict]:
    """``count`` votes on random pairs, random sides, the winner drawn by Bradley-Terry."""
    rng = random.Random(seed)
    models = list(strengths)
    votes = []
    for n in range(count):
        left, right = rng.sample(models, 2)
        p_left = 1 / (1 + math.exp(strengths[right] - strengths[left]))
        choice = "a_better" if rng.random() < p_left else "b_better"
        votes.append(vote(left, right, choice, rater=f"r{n % 3}", question=f"q{n % 40}"))
    return votes


def test_known_ranking_is_recovered_and_intervals_cover_the_truth():
    truth = {V1: -0.8, V2: 0.1, V3: 0.7}  # log-strengths, mean 0 as the fit reports them
    board = build_leaderboard(simulated_votes(truth, 1000, seed=7), {"bootstrap_samples": 500})
    assert board["votes"] == 1000
    assert [row["model"] for row in board["models"]] == [V3.label, V2.label, V1.label]
    for row in board["models"]:
        true = truth[ModelVersion(row["dataset"], row["version"])]
        assert row["low"] <= true <= row["high"], row
        assert row["low"] < row["score"] < row["high"]
        assert abs(row["score"] - true) < 0.2


def test_fit_matches_the_closed_form_of_two_versions():
    # Two versions, 30 wins to 10: p1 / (p1 + p2) = 0.75, so s1 - s2 = ln 3.
    wins = np.array([[0.0, 30.0], [10.0, 0.0]])
    played = np.array([[0.0, 40.0], [40.0, 0.0]])
    scores = fit_bradley_terry(wins, played)
    assert scores[0] - scores[1] == pytest.approx(math.log(3), abs=1e-6)
    assert scores.sum() == pytest.approx(0.0, abs=1e-9)


def test_a_tie_is_half_a_win_each():
    votes = [vote(V1, V2, "tie", question=f"q{i}") for i in range(4)]
    votes += [vote(V1, V2, "a_better", question="w1"), vote(V2, V1, "a_better", question="w2")]
    board = build_leaderboard(votes, {**FAST, "prior_ties": 0.0})
    scores = {row["model"]: row["score"] for row in board["models"]}
    assert scores[V1.label] == pytest.approx(scores[V2.label], abs=1e-9)
    assert board["matrix"][V1.label][V2.label] == {
        "wins": 1,
        "ties": 4,
        "losses": 1,
        "both_unacceptable": 0,
    }


def test_same_leaderboard_whatever_the_order_of_the_votes():
    votes = simulated_votes({V1: 0.0, V2: 0.5, V3: 1.0}, 120, seed=3)
    shuffled = votes[:]
    random.Random(1).shuffle(shuffled)
    assert build_leaderboard(votes, FAST) == build_leaderboard(shuffled, FAST)


def test_a_version_that_always_wins_gets_a_finite_score():
    votes = [vote(V1, V2, "a_better", question=f"q{i}") for i in range(5)]
    board = build_leaderboard(votes, FAST)
    assert all(math.isfinite(row["score"]) for row in board["models"])
    assert board["models"][0]["model"] == V1.label


def test_rater_agreement_percent_and_kappa():
    # Two raters on four pairs; the sides of the same pair are swapped between them.
    ann = [("q1", "a_better"), ("q2", "a_better"), ("q3", "tie"), ("q4", "b_better")]
    bob = [("q1", "b_better"), ("q2", "a_better"), ("q3", "tie"), ("q4", "b_better")]
    votes = [vote(V1, V2, c, rater="ann", question=q) for q, c in ann]
    votes += [vote(V2, V1, c, rater="bob", question=q) for q, c in bob]
    agreement = rater_agreement(votes)
    # canonical outcomes: ann [first, first, tie, second], bob [first, second, tie, first]
    assert agreement["shared_pairs"] == 4
    assert agreement["agreement"] == pytest.approx(0.5)
    # p_o 0.5; marginals ann (2 first, 1 tie, 1 second), bob (2 first, 1 tie, 1 second):
    # p_e = (2*2 + 1*1 + 1*1) / 16 = 0.375; kappa = (0.5 - 0.375) / 0.625 = 0.2
    assert agreement["kappa"] == pytest.approx(0.2)
    assert agreement["by_rater_pair"][0]["raters"] == ["ann", "bob"]


def test_tags_are_counted_per_model_version():
    votes = [
        vote(V1, V2, "b_better", left_tags=["unsafe", "invented_dose"], right_tags=[]),
        vote(V2, V1, "a_better", question="q2", right_tags=["unsafe"]),
    ]
    tags = build_leaderboard(votes, FAST)["tags"]
    assert tags[V1.label]["unsafe"] == 2 and tags[V1.label]["invented_dose"] == 1
    assert sum(tags[V2.label].values()) == 0


def test_tampered_records_are_skipped_with_the_reason():
    good = vote(V1, V2, "a_better")
    same_sides = {**vote(V1, V2, "tie", question="q2"), "right": good["left"]}
    bad_choice = {**vote(V1, V2, "tie", question="q3"), "choice": "left_wins"}
    no_rater = {**vote(V1, V2, "tie", question="q4"), "rater": "  "}
    board = build_leaderboard([good, same_sides, bad_choice, no_rater, good], FAST)
    assert board["votes"] == 1
    reasons = [item["reason"] for item in board["skipped"]]
    assert len(reasons) == 4
    assert "same model version" in reasons[0] and "unknown choice" in reasons[1]
    assert "rater" in reasons[2] and "seen before" in reasons[3]


def test_html_escapes_notes_raters_and_versions():
    script = "<script>alert('x')</script>"
    votes = [vote(V1, V2, "a_better", rater="<b>eve</b>", note=script)]
    page = render_leaderboard_html(build_leaderboard(votes, FAST))
    assert "<script>" not in page and "<b>eve" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert V1.label in page


def test_no_votes_gives_an_empty_leaderboard():
    board = build_leaderboard([], FAST)
    assert board["models"] == [] and board["votes"] == 0
    assert "0 votes" in render_leaderboard_html(board)


def test_mlflow_metrics_are_numbers_named_by_version():
    board = build_leaderboard([vote(V1, V2, "a_better")], FAST)
    metrics = board["metrics"]
    assert metrics["votes"] == 1
    assert set(metrics[f"{V1.dataset}/{V1.version}"]) == {"score", "low", "high", "votes"}
