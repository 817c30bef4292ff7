"""Typed settings of the data_engineering pipeline (``params:data_engineering``)."""

from __future__ import annotations

from dataclasses import dataclass

from llm_finetune.config.base import (
    FRACTION,
    NON_NEGATIVE_INT,
    POSITIVE_INT_OR_NULL,
    Settings,
)


@dataclass(frozen=True)
class DataEngineeringSettings(Settings):
    """How raw dialogues become the train / validation / test question-answer pairs
    (``params:data_engineering``); the defaults are conf/base's.

    Build it with ``DataEngineeringSettings.from_params(params["data_engineering"])``, or from
    the single values a node gets (``DataEngineeringSettings(max_rows=max_rows)``): unusable
    values fail naming the full key (``data_engineering.test_fraction must be between 0 and 1,
    got 0 (data_engineering pipeline)``).
    """

    SECTION = "data_engineering"
    PIPELINE = "data_engineering"
    RULES = {
        "max_rows": POSITIVE_INT_OR_NULL,
        "min_question_chars": NON_NEGATIVE_INT,
        "min_answer_chars": NON_NEGATIVE_INT,
        "validation_fraction": FRACTION,
        "test_fraction": FRACTION,
        "split_seed": NON_NEGATIVE_INT,
    }

    #: Fold the hub schema's `Patient` message into the question (the walkthrough uses
    #: `Description` only).
    include_patient_text: bool = False
    #: Text placed between the question and the folded patient message (cleaning then collapses
    #: whitespace, so only visible characters survive, e.g. " | Patient: ").
    patient_text_separator: str = " | Patient: "
    #: Keep the first N usable rows (the walkthrough uses 1500); null keeps every row.
    max_rows: int | None = None
    #: Removed from the start of questions as a whole prefix (the hub's `Description` starts
    #: with "Q. "); "" removes nothing.
    question_prefix: str = "Q. "
    #: Rows whose cleaned question is shorter than this many characters are dropped and counted.
    min_question_chars: int = 10
    #: Rows whose cleaned answer is shorter than this many characters are dropped and counted.
    min_answer_chars: int = 20
    #: Shares of distinct questions held out; the split is grouped by question, so a question
    #: and all its answers land in one split. Validation steers training (eval loss, best
    #: checkpoint, early stopping, the sweep).
    validation_fraction: float = 0.1
    #: Test is read only by the evaluation pipeline.
    test_fraction: float = 0.1
    #: Seed of the question split.
    split_seed: int = 123

    def check(self) -> None:
        if self.validation_fraction + self.test_fraction >= 1:
            self._fail(
                f"{self.key('validation_fraction')} + {self.key('test_fraction')} must be below "
                f"1 (training needs questions too), got {self.validation_fraction} + "
                f"{self.test_fraction}"
            )
