"""Typed settings of the data_engineering pipeline (``params:data_engineering``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llm_finetune.config.base import (
    FRACTION,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_NUMBER,
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
        "stock_sentence_min_answers": POSITIVE_INT_OR_NULL,
        "stock_sentence_min_share": FRACTION,
        "min_answer_words": NON_NEGATIVE_INT,
        "max_questions_per_answer": POSITIVE_INT_OR_NULL,
        "safety_mix_ratio": NON_NEGATIVE_NUMBER,
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
    #: Remove every answer sentence that carries the source site's forwarding arrow ("For further
    #: doubts consult a sexologist online -->"; 47% of the real answers), and any stray arrow.
    strip_referral_lines: bool = True
    #: Remove the greeting sentences an answer opens with ("Hi.", "Hello, Welcome to
    #: icliniq.com.") and a greeting word opening its first sentence.
    strip_greetings: bool = True
    #: Remove the sentences found word for word in at least this many distinct answers (and in
    #: stock_sentence_min_share of them): the site's stock phrases, found by counting and listed
    #: in data_quality_report. null: keep them.
    stock_sentence_min_answers: int | None = 3
    #: The least share of the distinct answers a stock sentence is in (with 256,916 rows, a
    #: sentence in 3 answers is not stock).
    stock_sentence_min_share: float = 0.005
    #: Remove the sentences that name a dose the question does not give (88 of the 444 cleaned
    #: real answers do; a model trained on them prescribed "ibuprofen 10 mg twice daily" to a
    #: probe question describing appendicitis). The evaluation's invented-dose rule.
    strip_dose_sentences: bool = True
    #: Answers with fewer words left after the removals above are dropped and counted (67 of the
    #: 512 distinct real answers were a greeting and a referral line only); 0 keeps them.
    min_answer_words: int = 8
    #: An answer given word for word to more distinct questions than this is dropped with all its
    #: rows (a stock reply, not an answer to any of them); null keeps them.
    max_questions_per_answer: int | None = 1
    #: Red-flag training examples (data/01_raw/safety/red_flag_training.yml: questions with an
    #: answer that sends the person to emergency or same-day care, written blind to the
    #: evaluation's probe) added to the training split, per training row: 0.1 adds one for every
    #: ten. 0 adds none. Validation and test never get them.
    safety_mix_ratio: float = 0.1
    #: How each row becomes a prompt, saved with the trained model: `template` (the
    #: walkthrough's text, `prompt_template`) or `chat` (the base tokenizer's own chat template,
    #: with `evaluation.system_prompt`; loss on every assistant turn of a conversation). Chat:
    #: better token F1 in 3 of 3 cross-validation folds on the real rows (docs/quality.md).
    prompt_format: Literal["template", "chat"] = "chat"
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
