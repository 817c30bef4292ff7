"""Typed settings of the human_evaluation pipeline (``params:human_evaluation``; ``kedro run
--pipelines human_evaluation``): how the leaderboard is fitted from the rating page's votes."""

from __future__ import annotations

from dataclasses import dataclass

from llm_finetune.config.base import (
    FRACTION,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_NUMBER,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    Settings,
)

HUMAN_EVALUATION = "human_evaluation"


@dataclass(frozen=True)
class HumanEvaluationSettings(Settings):
    """What the leaderboard node reads (``params:human_evaluation``); defaults are conf/base's."""

    SECTION = HUMAN_EVALUATION
    PIPELINE = HUMAN_EVALUATION
    RULES = {
        "bootstrap_samples": POSITIVE_INT,
        "confidence": FRACTION,
        "seed": NON_NEGATIVE_INT,
        "max_iterations": POSITIVE_INT,
        "tolerance": POSITIVE_NUMBER,
        "prior_ties": NON_NEGATIVE_NUMBER,
    }

    #: Resamples of the votes (with replacement) for the scores' intervals.
    bootstrap_samples: int = 1000
    #: Coverage of the intervals (percentile bootstrap).
    confidence: float = 0.95
    #: Seed of the resampling: the same votes give the same intervals.
    seed: int = 0
    #: Iterations of the Bradley-Terry fit (MM algorithm) at most.
    max_iterations: int = 10000
    #: The fit stops when no log-strength moves by more than this.
    tolerance: float = 1.0e-9
    #: Virtual ties added between every two rated model versions, so that a version that won
    #: (or lost) every vote still gets a finite score; 0 fits the votes alone.
    prior_ties: float = 1.0
    #: Count "both unacceptable" as a tie (true) or leave it out of the scores (false); it is
    #: counted in the win/tie/loss matrix either way.
    both_unacceptable_as_tie: bool = True
