"""Packing examples into rows without cross-contamination.

A row holds several examples back to back. Isolation comes from ``position_ids`` that restart at 0
for every example and from passing *no* attention mask: transformers then derives a block-diagonal
causal mask from the position ids (``find_packed_sequence_indices``). That only happens when the
model runs without a KV cache, so training must set ``model.config.use_cache = False`` — with the
cache on, Llama silently lets packed examples attend to each other (verified on transformers 5.24).
The first label of each example is -100, so no example is asked to predict the next one's start.
Padding, where rows differ in length, is one more segment with its own positions and no labels.
"""

from __future__ import annotations

import random
from typing import Any

from llm_finetune.modeling.examples import IGNORE_INDEX

Row = dict[str, list[int]]


def pack_rows(
    examples: list[dict[str, list[int]]],
    examples_per_row: int | None = None,
    max_tokens_per_row: int | None = None,
    seed: int | None = 0,
) -> list[Row]:
    """Group examples (shuffled with ``seed``; None keeps order) into rows.

    A row closes when it holds ``examples_per_row`` examples or the next example would push it past
    ``max_tokens_per_row`` tokens (an example longer than the budget gets a row of its own).
    """
    if not examples_per_row and not max_tokens_per_row:
        raise ValueError("set examples_per_row and/or max_tokens_per_row to pack examples")
    order = list(range(len(examples)))
    if seed is not None:
        random.Random(seed).shuffle(order)
    rows: list[Row] = []
    current: list[dict[str, list[int]]] = []
    tokens = 0
    for index in order:
        example = examples[index]
        full = examples_per_row is not None and len(current) >= examples_per_row
        budget = max_tokens_per_row
        over = budget is not None and tokens + len(example["input_ids"]) > budget
        if current and (full or over):
            rows.append(_join(current))
            current, tokens = [], 0
        current.append(example)
        tokens += len(example["input_ids"])
    if current:
        rows.append(_join(current))
    return rows


def as_rows(examples: list[dict[str, list[int]]]) -> list[Row]:
    """One example per row (no packing), in the same row form."""
    return [_join([example]) for example in examples]


def _join(examples: list[dict[str, list[int]]]) -> Row:
    input_ids: list[int] = []
    labels: list[int] = []
    position_ids: list[int] = []
    for example in examples:
        input_ids += example["input_ids"]
        labels += [IGNORE_INDEX] + list(example["labels"][1:])
        position_ids += list(range(len(example["input_ids"])))
    return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids}


def collate_rows(rows: list[Row], pad_token_id: int) -> dict[str, Any]:
    """Stack rows into tensors; shorter rows get a padding segment (own positions, no labels)."""
    import torch

    longest = max(len(row["input_ids"]) for row in rows)
    batch: dict[str, list[list[int]]] = {"input_ids": [], "labels": [], "position_ids": []}
    for row in rows:
        pad = longest - len(row["input_ids"])
        batch["input_ids"].append(row["input_ids"] + [pad_token_id] * pad)
        batch["labels"].append(row["labels"] + [IGNORE_INDEX] * pad)
        batch["position_ids"].append(row["position_ids"] + list(range(pad)))
    return {key: torch.tensor(value, dtype=torch.long) for key, value in batch.items()}


def isolate_packed_examples(model: Any) -> None:
    """Make transformers build the per-example (block-diagonal) mask from ``position_ids``.

    The mask is only derived when no KV cache exists; with ``use_cache`` on, packed examples see
    each other. Turn it back on for generation.
    """
    model.config.use_cache = False


# What each batch trained on, counted by the collator (see RowCollator).
REAL_TOKENS = "num_real_tokens"
EXAMPLES = "num_examples"
SQUARED_TOKENS = "num_squared_example_tokens"  # sum of squared example lengths (attention FLOPs)
COUNTS = (REAL_TOKENS, EXAMPLES, SQUARED_TOKENS)


def example_lengths(row: Row) -> list[int]:
    """Lengths of the examples packed in ``row`` (each one's positions restart at 0)."""
    starts = [i for i, position in enumerate(row["position_ids"]) if position == 0]
    ends = starts[1:] + [len(row["input_ids"])]
    return [end - start for start, end in zip(starts, ends, strict=True)]


class RowCollator:
    """Collates rows for the Trainer and tells it what each batch holds: real (non-padding)
    tokens, examples, and the sum of squared example lengths.

    The counts travel inside the batch, so they survive DataLoader worker processes; the
    project's Trainer removes them before the model sees the batch.
    """

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        batch = collate_rows(rows, self.pad_token_id)
        lengths = [length for row in rows for length in example_lengths(row)]
        batch[REAL_TOKENS] = torch.tensor(sum(lengths))
        batch[EXAMPLES] = torch.tensor(len(lengths))
        batch[SQUARED_TOKENS] = torch.tensor(sum(length * length for length in lengths))
        return batch
