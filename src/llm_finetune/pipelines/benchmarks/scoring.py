"""Scoring a model in memory on the selected questions with EleutherAI's lm-evaluation-harness.

Each :class:`~llm_finetune.benchmark_tasks.BenchmarkTask` becomes harness task configurations
(``output_type: multiple_choice``) on local JSONL files written for this run, so nothing is read
from the Hub: one configuration per task, or per MMLU subject (its subject line and its own
``dev`` examples as shots). The harness scores every option by log-likelihood (``HFLM`` over the
loaded model and tokenizer) and computes ``acc`` / ``acc_norm`` per question; this module keeps
its per-question results (``log_samples``) so that the two models can be compared question by
question.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llm_finetune.benchmark_tasks import TASKS, BenchmarkTask, letters, subject_header
from llm_finetune.pipelines.benchmarks.question_sets import FEWSHOT_SPLIT

logger = logging.getLogger(__name__)

#: Seeds of the harness (its few-shot samplers and any randomness), fixed for reproducibility.
HARNESS_SEED = 1234
#: Separator of harness task names: <task>__<subject>.
SUBTASK_SEPARATOR = "__"


def _write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
    return str(path.resolve())


def harness_configs(
    task: BenchmarkTask,
    questions: Sequence[Mapping[str, Any]],
    fewshot: Sequence[Mapping[str, Any]],
    folder: Path,
) -> list[dict[str, Any]]:
    """lm-evaluation-harness task configurations (dicts, as ``simple_evaluate(tasks=...)`` takes
    them) asking ``questions`` the way ``task`` says, on JSONL files written under ``folder``."""
    groups: dict[str | None, list[Mapping[str, Any]]] = {}
    for question in questions:
        groups.setdefault(question["subject"] if task.subject_header else None, []).append(question)
    configs = []
    for subject, rows in groups.items():
        name = task.name if subject is None else f"{task.name}{SUBTASK_SEPARATOR}{subject}"
        data_files = {"test": _write_jsonl(folder / name / "test.jsonl", rows)}
        config: dict[str, Any] = {
            "task": name,
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": data_files, "cache_dir": str(folder / "hf_cache")},
            "test_split": "test",
            "output_type": "multiple_choice",
            "doc_to_text": task.prompt,
            "doc_to_target": "{{gold}}",
            "doc_to_choice": letters(len(rows[0]["choices"]))
            if task.form == "letter"
            else "{{choices}}",
            "num_fewshot": task.shots,
            "metric_list": [
                {"metric": metric, "aggregation": "mean", "higher_is_better": True}
                for metric in task.metrics
            ],
            "metadata": {"version": 1.0},
        }
        if subject is not None:
            config["description"] = subject_header(subject)
        if task.shots:
            shots = [row for row in fewshot if row["subject"] == subject][: task.shots]
            if len(shots) < task.shots:
                raise ValueError(
                    f"{task.name}: {len(shots)} few-shot examples for {subject!r}, "
                    f"{task.shots} needed"
                )
            data_files[FEWSHOT_SPLIT] = _write_jsonl(folder / name / "dev.jsonl", shots)
            config["fewshot_split"] = FEWSHOT_SPLIT
            config["fewshot_config"] = {"sampler": "first_n"}
        configs.append(config)
    return configs


def score_model(
    model: Any,
    tokenizer: Any,
    plan: Mapping[str, Any],
    batch_size: int,
) -> dict[str, Any]:
    """Every planned question of every planned task scored on ``model``.

    ``plan``: what :func:`~llm_finetune.pipelines.benchmarks.nodes.plan_benchmarks` saved (per
    task its questions and few-shot examples). Returns ``{"questions": [per-question records],
    "harness": {task: the harness's own aggregate per metric}, "examples": {task: the first
    question's prompt and continuations as the harness built them}}``.
    """
    import torch
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    model.eval()
    # The harness pads its batches; a tokenizer without a pad token gets one from the harness
    # (unk, else eos), which never changes the scores (padding is masked out).
    harness_model = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    records: list[dict[str, Any]] = []
    harness: dict[str, dict[str, float]] = {}
    examples: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="benchmark_tasks_") as folder:
        configs, owner = [], {}
        for name, planned in plan["tasks"].items():
            task = TASKS[name]
            for config in harness_configs(
                task, planned["questions"], planned["fewshot"], Path(folder)
            ):
                configs.append(config)
                owner[config["task"]] = task
        with torch.inference_mode():
            output = simple_evaluate(
                model=harness_model,
                tasks=configs,
                task_manager=TaskManager(include_defaults=False),
                bootstrap_iters=0,
                log_samples=True,
                random_seed=HARNESS_SEED,
                numpy_random_seed=HARNESS_SEED,
                torch_random_seed=HARNESS_SEED,
                fewshot_random_seed=HARNESS_SEED,
            )
    for harness_task in sorted(output["samples"]):
        task = owner[harness_task]
        samples = output["samples"][harness_task]
        harness[harness_task] = {
            metric: float(output["results"][harness_task][f"{metric},none"])
            for metric in task.metrics
        }
        for sample in samples:
            doc = sample["doc"]
            record = {
                "task": task.name,
                "id": str(doc["id"]),
                "subject": doc["subject"],
                "gold": int(sample["target"]),
                "options": len(sample["filtered_resps"]),
                "loglikelihoods": [float(response[0]) for response in sample["filtered_resps"]],
            }
            record.update({metric: float(sample[metric]) for metric in task.metrics})
            records.append(record)
        for metric in task.metrics:  # the per-question results are the harness's own
            mean = sum(float(sample[metric]) for sample in samples) / len(samples)
            if abs(mean - harness[harness_task][metric]) > 1e-9:
                raise RuntimeError(
                    f"{harness_task}: per-question {metric} averages {mean}, the harness "
                    f"reports {harness[harness_task][metric]}"
                )
        first = min(samples, key=lambda sample: sample["doc_id"])
        if task.name not in examples:
            arguments = [tuple(argument) for argument in first["arguments"]]
            examples[task.name] = {
                "prompt": arguments[0][0],
                "continuations": [argument[1] for argument in arguments],
            }
    return {"questions": records, "harness": harness, "examples": examples}
