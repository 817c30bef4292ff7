"""The folds and the settings of cross-validation (pure Python: no torch, no mlflow).

- :func:`assign_questions`: every distinct question to one of k folds, seeded; every copy of a
  question goes with it, so a question is never both trained on and scored;
- :func:`setting_blocks`: the ``training`` and ``generation`` blocks of one setting: the run's,
  then ``cross_validation.training`` / ``generation`` and ``max_steps``, then the setting's own
  overrides (unknown keys fail, naming the parameter);
- :func:`configured_cross_validation`: the run's ``cross_validation`` parameters, which decide
  how many fold namespaces the pipeline holds (as the sweep's configurations do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llm_finetune.config.cross_validation import (
    CROSS_VALIDATION,
    DATA_KEYS,
    OVERRIDABLE,
    CrossValidationSettings,
)
from llm_finetune.pipelines.sweep.grid import OPEN_SECTIONS, apply_overrides, flatten

CV_NAMESPACE = CROSS_VALIDATION


def fold_name(index: int) -> str:
    return f"fold_{index}"


def assign_questions(questions: Sequence[str], k: int, seed: int) -> dict[str, int]:
    """Each distinct question of ``questions`` -> its fold (0..k-1).

    The distinct questions are sorted (so the folds do not depend on row order), shuffled with
    ``seed`` and dealt round-robin: fold sizes in questions differ by at most one. Fails, naming
    ``cross_validation.k``, when k < 2 or k exceeds the number of distinct questions.
    """
    distinct = sorted(set(questions))
    if k < 2:
        raise ValueError(f"cross_validation.k must be at least 2, got {k}")
    if k > len(distinct):
        raise ValueError(
            f"cross_validation.k={k} is larger than the {len(distinct)} distinct questions of "
            "train + validation: every fold needs at least one question; lower "
            "cross_validation.k or give more rows"
        )
    order = np.random.default_rng(seed).permutation(len(distinct))
    return {distinct[position]: rank % k for rank, position in enumerate(order)}


def scored_questions(
    assignment: Mapping[str, int], fold: int, seed: int, max_questions: int | None
) -> list[str]:
    """The held-out questions of ``fold`` that are scored: the first ``max_questions`` of the
    fold in the seeded order of :func:`assign_questions` (all of them when None)."""
    distinct = sorted(assignment)
    order = np.random.default_rng(seed).permutation(len(distinct))
    in_fold = [distinct[p] for p in order if assignment[distinct[p]] == fold]
    return in_fold if max_questions is None else in_fold[:max_questions]


def setting_overrides(overrides: Mapping[str, Any], setting: str) -> dict[str, dict[str, Any]]:
    """One setting's overrides split by block: ``{"training": {...}, "generation": {...}}``
    (dotted keys inside each block)."""
    split: dict[str, dict[str, Any]] = {block: {} for block in OVERRIDABLE}
    for key, value in flatten(overrides).items():
        block, _, rest = key.partition(".")
        if block not in split or not rest:
            raise ValueError(
                f"cross_validation.{setting}.{key}: not a key of {' or '.join(OVERRIDABLE)} "
                f"(a setting overrides {', '.join(f'{b}.<key>' for b in OVERRIDABLE)})"
            )
        if block == "data_engineering" and rest not in DATA_KEYS:
            raise ValueError(
                f"cross_validation.{setting}.{key}: a setting overrides only "
                f"{', '.join(f'data_engineering.{k}' for k in DATA_KEYS)} of data engineering "
                "(the answer cleaning changes the held-out references: compare it by two runs)"
            )
        split[block][rest] = value
    return split


def setting_data(
    settings: CrossValidationSettings, setting: str, data_engineering: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``data_engineering`` values a setting's folds are prepared with: the run's
    ``prompt_format`` and ``safety_mix_ratio``, then the setting's own. A ratio other than 0 or
    the run's cannot be made from the rows already mixed, and fails naming the key."""
    own = setting_overrides(getattr(settings, setting), setting)["data_engineering"]
    data = {key: data_engineering.get(key) for key in DATA_KEYS} | own
    ratio = data["safety_mix_ratio"]
    if ratio not in (0, data_engineering.get("safety_mix_ratio")):
        raise ValueError(
            f"cross_validation.{setting}.data_engineering.safety_mix_ratio={ratio!r}: only 0 (the "
            f"red-flag rows left out) or the run's "
            f"({data_engineering.get('safety_mix_ratio')!r}) can be compared on the rows mixed"
        )
    return data


def setting_blocks(
    settings: CrossValidationSettings,
    setting: str,
    training: Mapping[str, Any],
    generation: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``training`` and ``generation`` blocks of ``setting`` (``baseline`` or
    ``candidate``); an unknown key fails naming ``cross_validation.<...>.<key>``."""
    own = setting_overrides(getattr(settings, setting), setting)
    trained = apply_overrides(
        training,
        flatten(settings.training),
        where="cross_validation.training",
        open_sections=OPEN_SECTIONS,
    )
    if settings.max_steps is not None:
        trained["trainer"]["max_steps"] = settings.max_steps
    trained = apply_overrides(
        trained,
        own["training"],
        where=f"cross_validation.{setting} (training)",
        open_sections=OPEN_SECTIONS,
    )
    decoded = apply_overrides(
        generation, flatten(settings.generation), where="cross_validation.generation"
    )
    decoded = apply_overrides(
        decoded, own["generation"], where=f"cross_validation.{setting} (generation)"
    )
    return trained, decoded


def configured_cross_validation(
    project_path: str | Path | None = None, env: str | None = None
) -> Any:
    """The ``cross_validation`` parameters that decide how many folds the pipeline holds: the
    run's own (``llm_finetune.run_parameters``; ``--env`` and ``--params`` choose them), else the
    configuration files of the project found from the working directory, environment ``env`` or
    ``$KEDRO_ENV`` (else ``local``), merged over ``base``."""
    from llm_finetune import run_parameters

    return run_parameters.parameter_block(CROSS_VALIDATION, project_path, env)
