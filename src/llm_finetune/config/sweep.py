"""Typed settings of the hyperparameter sweep (``params:sweep``; ``kedro run --pipelines sweep``).

How the configurations expand, and how their overrides apply to ``training``, is
``pipelines/sweep/grid.py``'s (pure Python); this class holds the block's keys and defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llm_finetune.config.base import Settings, rule

SWEEP = "sweep"


def _default_training() -> dict[str, Any]:
    return {
        "lora": {"enabled": True},
        "trainer": {
            "max_steps": 20,
            "eval_steps": 5,
            "save_steps": 20,
            "load_best_model_at_end": False,
        },
        "checkpoint_dir": "data/06_models/sweep_checkpoints",
    }


@dataclass(frozen=True)
class SweepSettings(Settings):
    """The sweep's configurations and the overrides they share (``params:sweep``): every
    configuration is trained and evaluated in its own namespace (``sweep.<configuration>``)."""

    SECTION = SWEEP
    PIPELINE = SWEEP
    RULES = {
        "configurations": rule(
            (lambda v: v is None or isinstance(v, list | tuple), "a list of override mappings")
        ),
        "grid": rule(
            (
                lambda v: v is None or isinstance(v, Mapping),
                "a mapping of value lists (a list of configurations goes in sweep.configurations)",
            )
        ),
    }
    #: Comments on keys inside the mapping-valued fields (dotted, from the field), written above
    #: them in conf/base.
    NOTES = {
        "training.trainer.save_steps": "One checkpoint at the end (for an interrupted sweep to "
        "resume), none in between.",
        "training.checkpoint_dir": "Away from the main run's checkpoints; one directory per "
        "configuration (the run key\nhashes the configuration's settings).",
        "evaluation.num_questions": "Fewer generated answers per model (validation questions); "
        "answer perplexity\nstill scores the whole validation split.",
        "evaluation.off_topic_prompts": "No off-topic probe in the sweep (the main run has it).",
    }

    #: What to sweep: keys are paths inside `training` (dotted or nested), so any training setting
    #: can be swept (unknown keys fail, except new Hugging Face TrainingArguments under
    #: `trainer`). Named configurations, each a mapping of overrides with an optional `name`, e.g.
    #:   configurations:
    #:     - {name: full, lora.enabled: false, trainer.learning_rate: 1.0e-5}
    #:     - {name: lora_r4, lora.r: 4}
    configurations: tuple[dict[str, Any], ...] | None = ()
    #: ... followed by the product of these value lists (a key set to null is not swept;
    #: `grid: null` in conf/local keeps only the named configurations). Names (given, or made
    #: from the overrides, e.g. learning_rate_1e-05__r_8) use letters, digits, '_' and '-'. Which
    #: configurations exist comes from the run's parameters, so --env and --params choose them
    #: (e.g. conf/quality/parameters.yml: kedro run --env quality --pipelines sweep).
    grid: dict[str, Any] | None = field(
        default_factory=lambda: {"lora.learning_rate": [1.0e-5, 1.0e-4], "lora.r": [8, 16]}
    )
    #: Overrides applied to `training` for every configuration (before the grid's): cheaper runs.
    training: dict[str, Any] = field(default_factory=_default_training)
    #: Overrides applied to `evaluation` for the sweep (shared by every configuration).
    evaluation: dict[str, Any] = field(
        default_factory=lambda: {"num_questions": 5, "off_topic_prompts": []}
    )
