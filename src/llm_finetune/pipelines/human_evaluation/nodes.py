"""Leaderboard of model versions from the blind votes (``human_votes``).

Bradley-Terry: version i beats version j with probability p_i / (p_i + p_j). A tie counts half a
win for each side. The strengths are fitted by Hunter's MM algorithm (2004) from the win and game
counts, which do not depend on the votes' order; a few virtual ties between every two versions
(``prior_ties``) keep a version that won or lost every vote finite. Intervals: percentile
bootstrap over the votes (seeded, votes in a canonical order first, so the file's order does not
matter).
"""

from __future__ import annotations

import html
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from llm_finetune.config.human_evaluation import HumanEvaluationSettings
from llm_finetune.rating.pairs import ModelVersion
from llm_finetune.rating.votes import CHOICES, TAGS, check_vote

logger = logging.getLogger(__name__)

#: Elo-like display scale: 400 points per factor 10 of strength, 1000 for the average version.
ELO_SCALE = 400 / math.log(10)
ELO_BASE = 1000.0
#: Outcome of a vote for its left answer (None: not a game).
_LEFT_SCORE = {"a_better": 1.0, "b_better": 0.0, "tie": 0.5}


def usable_votes(votes: Sequence[Mapping[str, Any]]) -> tuple[list[dict], list[dict]]:
    """The votes that are usable, in a canonical order (time, then id), and those skipped with
    why (a tampered or hand-edited record; a repeated vote id counts once)."""
    usable, skipped, seen = [], [], set()
    for index, vote in enumerate(votes):
        problem = check_vote(vote) if isinstance(vote, Mapping) else "not a JSON object"
        if problem is None and vote.get("vote_id") in seen:
            problem = f"vote_id {vote.get('vote_id')!r} seen before"
        if problem:
            logger.warning("human_votes record %d skipped: %s", index + 1, problem)
            skipped.append({"record": index + 1, "reason": problem})
            continue
        seen.add(vote.get("vote_id"))
        usable.append(dict(vote))
    usable.sort(key=lambda vote: (vote["time"], str(vote.get("vote_id", ""))))
    return usable, skipped


def _label(side: Mapping[str, Any]) -> str:
    return ModelVersion.from_dict(side).label


def _games(votes: Sequence[Mapping[str, Any]], index: Mapping[str, int], ties_for_both: bool):
    """(left index, right index, left's score) of every vote that counts as a game."""
    scores = dict(_LEFT_SCORE, both_unacceptable=0.5) if ties_for_both else _LEFT_SCORE
    games = [
        (index[_label(v["left"])], index[_label(v["right"])], scores[v["choice"]])
        for v in votes
        if v["choice"] in scores
    ]
    return np.array(games, dtype=float).reshape(-1, 3)


def _counts(games: np.ndarray, size: int, prior_ties: float) -> tuple[np.ndarray, np.ndarray]:
    """Wins (W[i, j]: i's points against j) and games (N, symmetric), with the prior ties."""
    wins = np.full((size, size), prior_ties / 2.0)
    played = np.full((size, size), float(prior_ties))
    np.fill_diagonal(wins, 0.0)
    np.fill_diagonal(played, 0.0)
    if len(games):
        left, right, score = games[:, 0].astype(int), games[:, 1].astype(int), games[:, 2]
        np.add.at(wins, (left, right), score)
        np.add.at(wins, (right, left), 1.0 - score)
        np.add.at(played, (left, right), 1.0)
        np.add.at(played, (right, left), 1.0)
    return wins, played


def fit_bradley_terry(
    wins: np.ndarray, played: np.ndarray, max_iterations: int = 10_000, tolerance: float = 1e-9
) -> np.ndarray:
    """Log-strengths (mean 0) from win and game counts, by the MM algorithm. A version with no
    game gets 0; one with no win (and no prior) gets -inf."""
    size = len(wins)
    total_wins = wins.sum(axis=1)
    strength = np.ones(size)
    active = played.sum(axis=1) > 0
    for _ in range(max_iterations):
        with np.errstate(divide="ignore", invalid="ignore"):
            denominator = (played / (strength[:, None] + strength[None, :])).sum(axis=1)
            updated = np.where(active, total_wins / denominator, 1.0)
        positive = updated[updated > 0]
        if len(positive):  # scale: geometric mean 1 over the versions that can be scored
            updated = updated / math.exp(np.log(positive).mean())
        with np.errstate(divide="ignore", invalid="ignore"):
            moved = np.nan_to_num(np.abs(np.log(updated) - np.log(strength)), posinf=0.0)
        strength = updated
        if moved.max(initial=0.0) < tolerance:
            break
    with np.errstate(divide="ignore"):
        log_strength = np.log(strength)
    finite = np.isfinite(log_strength)
    if finite.any():
        log_strength[finite] -= log_strength[finite].mean()
    return log_strength


def _outcome_matrix(votes: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> dict:
    """For every two versions that met: a's wins, ties, losses and both-unacceptable against b."""
    matrix: dict[str, dict[str, dict[str, int]]] = {
        a: {b: Counter() for b in labels if b != a} for a in labels
    }
    for vote in votes:
        left, right, choice = _label(vote["left"]), _label(vote["right"]), vote["choice"]
        outcome = {"a_better": ("wins", "losses"), "b_better": ("losses", "wins")}.get(
            choice, ("ties", "ties") if choice == "tie" else ("both_unacceptable",) * 2
        )
        matrix[left][right][outcome[0]] += 1
        matrix[right][left][outcome[1]] += 1
    keys = ("wins", "ties", "losses", "both_unacceptable")
    return {
        a: {b: {key: cell[key] for key in keys} for b, cell in row.items() if sum(cell.values())}
        for a, row in matrix.items()
    }


def _canonical_outcome(vote: Mapping[str, Any]) -> tuple[tuple, str]:
    """(question, the two versions in sorted order) and the outcome in that order."""
    left, right = _label(vote["left"]), _label(vote["right"])
    first, second = sorted((left, right))
    choice = vote["choice"]
    if choice in ("a_better", "b_better"):
        winner = left if choice == "a_better" else right
        choice = "first_better" if winner == first else "second_better"
    return (vote["question_id"], first, second), choice


def _kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Cohen's kappa of (rater 1's outcome, rater 2's outcome) pairs; None when undefined."""
    if not pairs:
        return None
    observed = sum(a == b for a, b in pairs) / len(pairs)
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / len(pairs) ** 2
    return None if expected >= 1.0 else (observed - expected) / (1.0 - expected)


def rater_agreement(votes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Where two raters judged the same pair (question and versions, either side order): percent
    agreement and Cohen's kappa over every two raters' outcomes, overall and per rater pair. A
    rater's latest vote on a pair is theirs."""
    latest: dict[tuple, dict[str, str]] = defaultdict(dict)
    for vote in votes:  # in time order: a later vote replaces the rater's earlier one
        item, outcome = _canonical_outcome(vote)
        latest[item][vote["rater"]] = outcome
    pooled: list[tuple[str, str]] = []
    by_raters: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    shared_items = 0
    for outcomes in latest.values():
        if len(outcomes) < 2:
            continue
        shared_items += 1
        for r1, r2 in combinations(sorted(outcomes), 2):
            pooled.append((outcomes[r1], outcomes[r2]))
            by_raters[(r1, r2)].append((outcomes[r1], outcomes[r2]))

    def summary(pairs: list[tuple[str, str]]) -> dict[str, Any]:
        agreement = sum(a == b for a, b in pairs) / len(pairs) if pairs else None
        return {"comparisons": len(pairs), "agreement": agreement, "kappa": _kappa(pairs)}

    return {
        "shared_pairs": shared_items,
        **summary(pooled),
        "by_rater_pair": [
            {"raters": list(raters), **summary(pairs)} for raters, pairs in by_raters.items()
        ],
    }


def _tag_counts(votes: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> dict:
    counts = {label: dict.fromkeys(TAGS, 0) for label in labels}
    for vote in votes:
        for side in ("left", "right"):
            for tag in vote[side].get("tags", []):
                counts[_label(vote[side])][tag] += 1
    return counts


def build_leaderboard(
    human_votes: list[dict[str, Any]], params: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The leaderboard: per version its Bradley-Terry score with its bootstrap interval, votes
    and record; the win/tie/loss matrix; inter-rater agreement; tag counts; the skipped votes."""
    settings = HumanEvaluationSettings.from_params(params)
    votes, skipped = usable_votes(human_votes)
    labels = sorted({_label(v[side]) for v in votes for side in ("left", "right")})
    index = {label: i for i, label in enumerate(labels)}
    games = _games(votes, index, settings.both_unacceptable_as_tie)

    def fit(sample: np.ndarray) -> np.ndarray:
        wins, played = _counts(sample, len(labels), settings.prior_ties)
        return fit_bradley_terry(wins, played, settings.max_iterations, settings.tolerance)

    scores = fit(games)
    rng = np.random.default_rng(settings.seed)
    samples = settings.bootstrap_samples if len(games) else 0
    resampled = np.empty((samples, len(labels)))
    for row in range(samples):
        resampled[row] = fit(games[rng.integers(0, len(games), len(games))])
    tail = (1.0 - settings.confidence) / 2.0
    matrix = _outcome_matrix(votes, labels)
    models = []
    for label in labels:
        i = index[label]
        low, high = (
            (
                float(np.quantile(resampled[:, i], tail)),
                float(np.quantile(resampled[:, i], 1 - tail)),
            )
            if len(resampled)
            else (None, None)
        )
        record = Counter()
        for cell in matrix[label].values():
            record.update(cell)
        dataset, version = label.split("@", 1)
        models.append(
            {
                "model": label,
                "dataset": dataset,
                "version": version,
                "score": float(scores[i]),
                "low": low,
                "high": high,
                "elo": ELO_BASE + ELO_SCALE * float(scores[i]),
                "votes": sum(record.values()),
                **{key: record[key] for key in ("wins", "ties", "losses", "both_unacceptable")},
            }
        )
    models.sort(key=lambda row: (-row["score"], row["model"]))
    for rank, row in enumerate(models, start=1):
        row["rank"] = rank
    notes = [
        {
            "question_id": v["question_id"],
            "rater": v["rater"],
            "choice": v["choice"],
            "a": _label(v["left"]),
            "b": _label(v["right"]),
            "note": v["note"],
        }
        for v in votes
        if v.get("note")
    ]
    return {
        "votes": len(votes),
        "raters": sorted({v["rater"] for v in votes}),
        "models": models,
        "matrix": matrix,
        "agreement": rater_agreement(votes),
        "tags": _tag_counts(votes, labels),
        "notes": notes,
        "skipped": skipped,
        "settings": settings.to_dict(),
        "interval": f"{settings.confidence:.0%} percentile bootstrap over votes, "
        f"{settings.bootstrap_samples} resamples, seed {settings.seed}",
        # For MLflow (catalog metadata: metrics key): numbers only, one group per version.
        "metrics": {
            "votes": len(votes),
            **{
                f"{row['dataset']}/{row['version']}": {
                    key: row[key]
                    for key in ("score", "low", "high", "votes")
                    if row[key] is not None
                }
                for row in models
            },
        },
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:+.3f}" if math.isfinite(value) else str(value)
    return html.escape("" if value is None else str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_leaderboard_html(human_leaderboard: dict[str, Any]) -> str:
    """The leaderboard as one self-contained HTML page; every value from the votes is escaped."""
    board = human_leaderboard
    models = _table(
        [
            "rank",
            "model version",
            "score",
            "low",
            "high",
            "Elo-like",
            "votes",
            "wins",
            "ties",
            "losses",
            "both unacceptable",
        ],
        [
            [
                r["rank"],
                r["model"],
                r["score"],
                r["low"],
                r["high"],
                f"{r['elo']:.0f}",
                r["votes"],
                r["wins"],
                r["ties"],
                r["losses"],
                r["both_unacceptable"],
            ]
            for r in board["models"]
        ],
    )
    matrix = _table(
        ["version", "against", "wins", "ties", "losses", "both unacceptable"],
        [
            [a, b, c["wins"], c["ties"], c["losses"], c["both_unacceptable"]]
            for a, row in board["matrix"].items()
            for b, c in row.items()
        ],
    )
    agreement = board["agreement"]
    agreement_rows = [
        ["all raters", agreement["comparisons"], agreement["agreement"], agreement["kappa"]]
    ] + [
        [" & ".join(r["raters"]), r["comparisons"], r["agreement"], r["kappa"]]
        for r in agreement["by_rater_pair"]
    ]
    tags = _table(
        ["model version", *TAGS.values()],
        [[label, *counts.values()] for label, counts in board["tags"].items()],
    )
    notes = _table(
        ["question", "rater", "choice", "A", "B", "note"],
        [
            [
                n["question_id"],
                n["rater"],
                CHOICES.get(n["choice"], n["choice"]),
                n["a"],
                n["b"],
                n["note"],
            ]
            for n in board["notes"]
        ],
    )
    skipped = _table(["record", "reason"], [[s["record"], s["reason"]] for s in board["skipped"]])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Human evaluation leaderboard</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
td {{ white-space: pre-wrap; }}
</style></head><body>
<h1>Human evaluation leaderboard</h1>
<p>{board["votes"]} votes by {len(board["raters"])} raters. Score: Bradley-Terry log-strength
(mean 0; a difference of 1 means about 73% expected wins), interval:
{html.escape(board["interval"])}. Ties count half a win for each side.</p>
<h2>Scores</h2>{models}
<h2>Win / tie / loss</h2>{matrix}
<h2>Inter-rater agreement</h2>
<p>Where two raters judged the same pair ({agreement["shared_pairs"]} pairs).</p>
{_table(["raters", "comparisons", "agreement", "Cohen's kappa"], agreement_rows)}
<h2>Tags per model version</h2>{tags}
<h2>Notes</h2>{notes}
<h2>Skipped votes</h2>{skipped}
</body></html>
"""
