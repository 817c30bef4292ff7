"""Tokenizing the question/answer frames of a split into causal-LM training examples.

The layout of one example (what the model learns, answer-only labels, the learned EOS) is
:mod:`llm_finetune.modeling.examples`; this module applies it to whole frames.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from llm_finetune.modeling.examples import IGNORE_INDEX, TokenizedExample, tokenize_pair
from llm_finetune.progress import MIN_ITEMS_FOR_A_BAR, progress_bar
from llm_finetune.schemas import CONTEXT

TOKENIZED_COLUMNS = ("input_ids", "labels", "attention_mask")
#: Carried from the question/answer frame when present: rows of one question belong together
#: (paired comparisons resample by question).
QUESTION_COLUMN = "plain_question"


def tokenize_conversation(
    tokenizer: Any,
    context: Sequence[Sequence[str]],
    prompt: str,
    answer: str,
    max_length: int,
    answer_only_loss: bool = True,
) -> TokenizedExample | None:
    """A conversation's earlier turns (rendered (prompt, answer) pairs) and its final turn as one
    example: every turn laid out by :func:`tokenize_pair` (an answer and its EOS labelled), as the
    chat lays out its history. None when the earlier turns and the final prompt do not fit
    ``max_length``; only the final answer is ever cut."""
    input_ids: list[int] = []
    labels: list[int] = []
    for turn_prompt, turn_answer in context:
        turn = tokenize_pair(tokenizer, turn_prompt, turn_answer, sys.maxsize, answer_only_loss)
        assert turn is not None  # no prompt is sys.maxsize tokens long
        input_ids += turn.input_ids
        labels += turn.labels
    final = tokenize_pair(tokenizer, prompt, answer, max_length - len(input_ids), answer_only_loss)
    if final is None:
        return None
    return TokenizedExample(input_ids + final.input_ids, labels + final.labels, final.truncated)


def tokenize_qa(
    qa: pl.DataFrame, tokenizer: Any, tokenization: Mapping[str, Any]
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Tokenize every ``question``/``answer`` row with :func:`tokenize_pair`, after the row's
    earlier turns when it is a conversation (a ``context`` column: :func:`tokenize_conversation`).

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
    contexts = qa[CONTEXT] if CONTEXT in qa.columns else [None] * qa.height
    for prompt, answer, question, context in zip(
        qa["question"], qa["answer"], plain, contexts, strict=True
    ):
        bar.update()
        example = tokenize_conversation(
            tokenizer,
            [] if context is None else json.loads(context),
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
