"""Turning question/answer pairs into causal-LM training examples.

The rules that decide what the model learns live here, so that tests can pin them down:
- only answer tokens carry a loss by default (prompt labels are -100);
- the EOS token is appended to every answer that fits and is *labelled*, so the model learns to
  stop. Labels are built before padding, so with ``pad == eos`` (the walkthrough's choice) padding
  masks can never erase the real EOS label (see ``packing.collate_rows``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from llm_finetune.progress import MIN_ITEMS_FOR_A_BAR, progress_bar

IGNORE_INDEX = -100  # label value that torch's cross-entropy skips


@dataclass
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]
    truncated: bool


def tokenize_pair(
    tokenizer: Any, prompt: str, answer: str, max_length: int, answer_only_loss: bool = True
) -> TokenizedExample | None:
    """Tokenize one prompt/answer pair; None when the prompt alone does not fit ``max_length``.

    Prompt and answer are tokenized separately so the label boundary is exact and the prompt
    tokens match what the model sees at inference time.
    """
    prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    room = max_length - len(prompt_ids)
    if room <= 0:
        return None
    target = answer_ids + [tokenizer.eos_token_id]
    truncated = len(target) > room
    if truncated:  # a cut answer did not end, so it gets no EOS to learn
        target = answer_ids[:room]
    prompt_labels = [IGNORE_INDEX] * len(prompt_ids) if answer_only_loss else list(prompt_ids)
    return TokenizedExample(prompt_ids + target, prompt_labels + target, truncated)


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


def prompt_token_ids(tokenizer: Any, prompt: str) -> list[int]:
    """A rendered prompt's ids as :func:`tokenize_pair` tokenizes prompts (special tokens on):
    what the model reads before an answer, in training and at inference (the chat)."""
    return list(tokenizer(prompt, add_special_tokens=True)["input_ids"])


def example_token_ids(tokenizer: Any, prompt: str, answer: str) -> list[int]:
    """One finished example laid out by :func:`tokenize_pair` itself, never truncated: prompt ids,
    answer ids, EOS. The chat prompts earlier turns of a conversation this way."""
    import sys

    example = tokenize_pair(tokenizer, prompt, answer, max_length=sys.maxsize)
    assert example is not None  # no prompt is sys.maxsize tokens long
    return example.input_ids


def ensure_pad_token(model: Any, tokenizer: Any) -> None:
    """Give the tokenizer a pad token (EOS, the walkthrough's choice) and set it on the model.

    Every model a dataset loads goes through this rule, so padding is defined before tokenizing.
    """
    from kedro.io import DatasetError  # raised while a model dataset loads

    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise DatasetError("the tokenizer has neither a pad token nor an EOS token to pad with")
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    generation_config = getattr(model, "generation_config", None)
    if generation_config is not None and generation_config.pad_token_id is None:
        generation_config.pad_token_id = tokenizer.pad_token_id
