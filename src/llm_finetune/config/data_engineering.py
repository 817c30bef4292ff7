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

    #: Fold the hub schema's ``Patient`` message into the question.
    include_patient_text: bool = False
    #: Text placed between the question and the folded patient message.
    patient_text_separator: str = " | Patient: "
    #: Keep the first N usable rows; null keeps every row.
    max_rows: int | None = None
    #: Removed from the start of questions as a whole prefix ("" removes nothing).
    question_prefix: str = "Q. "
    #: Rows whose cleaned question is shorter than this many characters are dropped.
    min_question_chars: int = 10
    #: Rows whose cleaned answer is shorter than this many characters are dropped.
    min_answer_chars: int = 20
    #: Share of the distinct questions held out for validation (steers training).
    validation_fraction: float = 0.1
    #: Share of the distinct questions held out for test (read only by evaluation).
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
