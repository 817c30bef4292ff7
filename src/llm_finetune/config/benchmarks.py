"""Typed settings of the benchmarks pipeline (``params:benchmarks``; ``kedro run --pipelines
benchmarks``): which standard multiple-choice tasks score the base and the fine-tuned model, and
on how many questions.

The tasks themselves (question sets, prompt formats, metrics) are ``llm_finetune.benchmark_tasks``.
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_finetune.benchmark_tasks import TASKS
from llm_finetune.config.base import NON_NEGATIVE_INT, POSITIVE_INT, POSITIVE_INT_OR_NULL, Settings

BENCHMARKS = "benchmarks"


@dataclass(frozen=True)
class BenchmarksSettings(Settings):
    """What the benchmarks pipeline reads (``params:benchmarks``); the defaults are conf/base's.

    ``benchmarks.tasks`` names tasks of ``llm_finetune.benchmark_tasks.TASKS``; an unknown name
    fails before any model is loaded (``benchmarks.tasks: unknown task 'mmlu' ...``).
    """

    SECTION = BENCHMARKS
    PIPELINE = BENCHMARKS
    RULES = {
        "question_limit": POSITIVE_INT_OR_NULL,
        "sample_seed": NON_NEGATIVE_INT,
        "batch_size": POSITIVE_INT,
    }

    #: Tasks scored, each on both models (llm_finetune.benchmark_tasks.TASKS: MMLU medical in
    #: letter and cloze form, MedMCQA, MedQA with 5 options, ARC-Challenge, HellaSwag).
    tasks: tuple[str, ...] = tuple(TASKS)
    #: Questions scored per task, drawn at random (seeded) from the task's split, the same ones
    #: for both models; null scores every question (conf/gpu). The CPU default scores both
    #: models on every task in about a quarter of an hour on 2 cores (README, "Benchmarks").
    question_limit: int | None = 60
    #: Seed of the draw of questions when question_limit is set.
    sample_seed: int = 0
    #: Sequences per forward pass of lm-evaluation-harness (HFLM batch_size).
    batch_size: int = 8

    def check(self) -> None:
        if not self.tasks:
            self.fail("tasks", "must name at least one task", list(self.tasks))
        unknown = [name for name in self.tasks if name not in TASKS]
        if unknown:
            self.fail(
                "tasks",
                f"names unknown task{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))} (known: {', '.join(TASKS)})",
            )
        repeated = sorted({name for name in self.tasks if self.tasks.count(name) > 1})
        if repeated:
            self.fail("tasks", f"names {', '.join(map(repr, repeated))} more than once")
