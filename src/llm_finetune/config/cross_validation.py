"""Typed settings of cross-validation (``params:cross_validation``; ``kedro run --pipeline
cross_validation``).

How the folds are drawn and how the two settings' overrides apply to ``training`` and
``generation`` is ``pipelines/cross_validation/folds.py``'s (pure Python); this class holds the
block's keys and defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llm_finetune.config.base import (
    NON_NEGATIVE_INT,
    POSITIVE_INT_OR_NULL,
    Settings,
    is_int,
    rule,
)

CROSS_VALIDATION = "cross_validation"
#: The two settings compared, in the order of every report (namespaces
#: ``cross_validation.<setting>.fold_<i>``).
SETTINGS = ("baseline", "candidate")
#: The parameter blocks a setting may override (its keys are dotted paths inside them).
OVERRIDABLE = ("training", "generation", "data_engineering")
#: The ``data_engineering`` keys a setting may override: what can change on rows already split
#: (the format they are rendered in, the red-flag rows kept or left out). The answer cleaning
#: cannot: it changes the held-out references themselves, so the scores would not be paired.
DATA_KEYS = ("prompt_format", "safety_mix_ratio")


def _default_training() -> dict[str, Any]:
    return {
        "trainer": {"eval_steps": 20, "save_steps": 20, "load_best_model_at_end": False},
        "checkpoint_dir": "data/06_models/cross_validation_checkpoints",
    }


def _is_overrides(value: Any) -> bool:
    return isinstance(value, Mapping)


@dataclass(frozen=True)
class CrossValidationSettings(Settings):
    """k-fold cross-validation of two settings on train + validation, grouped by question
    (``params:cross_validation``): every fold of each setting is trained in its own namespace
    (``cross_validation.<setting>.fold_<i>``) and scored on its held-out fold."""

    SECTION = CROSS_VALIDATION
    PIPELINE = CROSS_VALIDATION
    RULES = {
        "k": rule((lambda v: is_int(v) and v >= 2, "an integer >= 2 (folds)")),
        "seed": NON_NEGATIVE_INT,
        "max_questions": POSITIVE_INT_OR_NULL,
        "max_steps": POSITIVE_INT_OR_NULL,
        "training": rule((_is_overrides, "a mapping of overrides of `training`")),
        "generation": rule((_is_overrides, "a mapping of overrides of `generation`")),
        "baseline": rule((_is_overrides, "a mapping of overrides (training.*, generation.*)")),
        "candidate": rule((_is_overrides, "a mapping of overrides (training.*, generation.*)")),
    }
    #: Comments on keys inside the mapping-valued fields (dotted, from the field), written above
    #: them in conf/base.
    NOTES = {
        "training.trainer.eval_steps": "One held-out loss at the end of each fold's training "
        "(raise with max_steps).",
        "training.trainer.load_best_model_at_end": "The held-out fold must not choose the "
        "model: no best checkpoint, no early stopping.",
        "training.checkpoint_dir": "Away from the main run's checkpoints; one directory per "
        "fold and setting.",
        "generation.max_new_tokens": "Shorter held-out answers than the main run's (384).",
    }

    #: Folds (at least 2, at most the number of distinct questions of train + validation). Every
    #: copy of a question lands in one fold; the test split is never read.
    k: int = 3
    #: Seed of the draw of questions into folds (the same folds for both settings: paired).
    seed: int = 0
    #: Held-out questions scored per fold (the first ones of the fold in the seeded order, every
    #: row of each); null scores the whole held-out fold. They are also the fold's eval loss.
    max_questions: int | None = 12
    #: Optimizer steps of every fold's training (training.trainer.max_steps); null: the run's.
    max_steps: int | None = 20
    #: Overrides of `training` shared by both settings and every fold (dotted or nested keys,
    #: unknown keys fail), applied before max_steps and the settings' own.
    training: dict[str, Any] = field(default_factory=_default_training)
    #: Overrides of `generation` for the held-out answers of every fold.
    generation: dict[str, Any] = field(default_factory=lambda: {"max_new_tokens": 128})
    #: The baseline setting: overrides of the run's `training` and `generation` blocks as dotted
    #: keys with their block, e.g. {training.lora.enabled: true}, and of
    #: `data_engineering.prompt_format` (the rows re-rendered: template or chat) or
    #: `data_engineering.safety_mix_ratio` (0: the red-flag rows left out); {}: the run's own
    #: settings.
    baseline: dict[str, Any] = field(default_factory=dict)
    #: The candidate setting compared with it fold by fold. Default: the walkthrough's learning
    #: rate (1e-5) against the run's (1e-4, chosen by the sweep on one training run per setting).
    candidate: dict[str, Any] = field(
        default_factory=lambda: {"training.trainer.learning_rate": 1.0e-5}
    )

    def check(self) -> None:
        for name in SETTINGS:
            for key in getattr(self, name):
                if str(key).split(".", 1)[0] not in OVERRIDABLE:
                    self.fail(
                        f"{name}.{key}",
                        f"is not a key of {' or '.join(OVERRIDABLE)} (a setting overrides "
                        f"{', '.join(f'{block}.*' for block in OVERRIDABLE)})",
                    )
