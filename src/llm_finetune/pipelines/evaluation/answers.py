"""The typed record of one answer to score: what a model answered to a test question, next to the
reference answer. Every per-answer metric of the registry (:mod:`.registry`) reads one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: The models compared, in the order of every report: the base model asked in the walkthrough's
#: template (as the model is fine-tuned), the same base model asked in its own chat format (only
#: when its tokenizer has a chat template: an instruct model's fair baseline), the fine-tuned one.
MODELS = ("base", "base_chat", "fine_tuned")
#: The baselines the fine-tuned model is compared with.
BASELINES = ("base", "base_chat")
#: How the reports name each model.
MODEL_LABELS = {
    "base": "Base (the run's prompt format)",
    "base_chat": "Base (own chat format)",
    "fine_tuned": "Fine-tuned",
}


def models_in(comparison_table: pd.DataFrame) -> list[str]:
    """The models the table holds answers of (``<model>_answer``), in :data:`MODELS` order."""
    present = [model for model in MODELS if f"{model}_answer" in comparison_table.columns]
    if "base" not in present or "fine_tuned" not in present:
        raise ValueError(
            "comparison_table needs the base and fine-tuned models' answers (base_answer, "
            f"fine_tuned_answer); it has {list(comparison_table.columns)}"
        )
    return present


@dataclass(frozen=True)
class Answer:
    """One model's answer to one test question.

    Attributes:
        question: The question as a person asked it (no prompt template).
        reference: The test split's answer to the question.
        text: The model's answer (decoded, prompt excluded).
        ended_with_eos: True when the model ended the answer itself, within the token limit.
        new_tokens: Tokens the model generated for it, the EOS included.
    """

    question: str
    reference: str
    text: str
    ended_with_eos: bool
    new_tokens: int


def answers_of(
    generated: Sequence[Mapping[str, Any]], questions: Sequence[str], references: Sequence[str]
) -> list[Answer]:
    """:class:`Answer` records of a model's generated answers (``text``, ``ended_with_eos``,
    ``num_new_tokens``, as ``evaluate_model`` returns them), one per question."""
    if not len(generated) == len(questions) == len(references):
        raise ValueError(
            f"expected one answer per question: {len(generated)} answers, {len(questions)} "
            f"questions, {len(references)} references"
        )
    records = []
    for row, (answer, question, reference) in enumerate(
        zip(generated, questions, references, strict=True)
    ):
        missing = [key for key in ("text", "ended_with_eos", "num_new_tokens") if key not in answer]
        if missing:
            raise ValueError(f"generated answer {row} lacks {missing}; it has {sorted(answer)}")
        records.append(
            Answer(
                question=str(question),
                reference=str(reference),
                text=str(answer["text"]),
                ended_with_eos=bool(answer["ended_with_eos"]),
                new_tokens=int(answer["num_new_tokens"]),
            )
        )
    return records


def answers_in_table(comparison_table: pd.DataFrame, model: str) -> list[Answer]:
    """A model's :class:`Answer` records read back from ``comparison_table`` (an empty answer read
    back from CSV is NaN: it is the empty text it was)."""
    texts = ("question", "reference_answer", f"{model}_answer")
    columns = [*texts, f"{model}_ended_with_eos", f"{model}_new_tokens"]
    missing = [column for column in columns if column not in comparison_table.columns]
    if missing:
        raise ValueError(f"comparison_table lacks the columns {missing}")
    question, reference, text = (comparison_table[c].fillna("").astype(str) for c in texts)
    return [
        Answer(
            question=q,
            reference=r,
            text=t,
            ended_with_eos=bool(eos),
            new_tokens=int(tokens),
        )
        for q, r, t, eos, tokens in zip(
            question,
            reference,
            text,
            comparison_table[f"{model}_ended_with_eos"],
            comparison_table[f"{model}_new_tokens"],
            strict=True,
        )
    ]
