"""Tokenizing the question/answer frames of a split into causal-LM training examples.

The layout of one example (what the model learns, answer-only labels, the learned EOS) is
:mod:`llm_finetune.modeling.examples`; this module applies it to whole frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from llm_finetune.modeling.examples import IGNORE_INDEX, tokenize_pair
from llm_finetune.progress import MIN_ITEMS_FOR_A_BAR, progress_bar

TOKENIZED_COLUMNS = ("input_ids", "labels", "attention_mask")
#: Carried from the question/answer frame when present: rows of one question belong together
#: (paired comparisons resample by question).
QUESTION_COLUMN = "plain_question"


def tokenize_qa(
    qa: pl.DataFrame, tokenizer: Any, tokenization: Mapping[str, Any]
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Tokenize every ``question``/``answer`` row with :func:`tokenize_pair`.

    Returns the frame (``input_ids``, ``labels``, ``attention_mask``, and ``plain_question`` when
    ``qa`` has it) and counts: examples, truncated answers, rows dropped because the prompt alone
    exceeds ``max_length``, tokens and answer tokens.
    """
    rows: dict[str, list[Any]] = {column: [] for column in TOKENIZED_COLUMNS}
    questions: list[str] = []
    has_question = QUESTION_COLUMN in qa.columns
    plain = qa[QUESTION_COLUMN] if has_question else qa["question"]
    truncated = dropped = 0
    bar = progress_bar(qa.height, "tokenizing", "row", enabled=qa.height >= MIN_ITEMS_FOR_A_BAR)
    for prompt, answer, question in zip(qa["question"], qa["answer"], plain, strict=True):
        bar.update()
        example = tokenize_pair(
            tokenizer,
            prompt,
            answer,
            max_length=tokenization["max_length"],
            answer_only_loss=tokenization["answer_only_loss"],
        )
        if example is None:
            dropped += 1
            continue
        truncated += example.truncated
        rows["input_ids"].append(example.input_ids)
        rows["labels"].append(example.labels)
        rows["attention_mask"].append([1] * len(example.input_ids))
        questions.append(question)
    bar.close()
    frame = pl.DataFrame(rows, schema={column: pl.List(pl.Int64) for column in rows})
    if has_question:
        frame = frame.with_columns(pl.Series(QUESTION_COLUMN, questions, dtype=pl.String))
    lengths = frame["input_ids"].list.len()
    answer_lengths = frame["labels"].list.eval((pl.element() != IGNORE_INDEX).sum()).explode()
    stats = {
        "examples": frame.height,
        "truncated": truncated,
        "dropped_prompt_too_long": dropped,
        "tokens": int(lengths.sum()),
        "answer_tokens": int(answer_lengths.sum()),
        "mean_tokens_per_example": round(float(lengths.mean() or 0.0), 1),
        "max_tokens_per_example": int(lengths.max() or 0),
    }
    return frame, stats
