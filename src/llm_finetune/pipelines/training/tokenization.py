"""Turning question/answer pairs into causal-LM training examples.

The rules that decide what the model learns live here, so that tests can pin them down:
- only answer tokens carry a loss by default (prompt labels are -100);
- the EOS token is appended to every answer that fits and is *labelled*, so the model learns to
  stop. Labels are built before padding, so with ``pad == eos`` (the walkthrough's choice) padding
  masks can never erase the real EOS label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def pad_batch(
    examples: list[dict[str, list[int]]], pad_token_id: int, pad_to_multiple_of: int | None = None
) -> dict[str, Any]:
    """Right-pad a batch: pads get attention 0 and label -100; real tokens keep their labels."""
    import torch

    longest = max(len(example["input_ids"]) for example in examples)
    if pad_to_multiple_of:
        longest = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
    input_ids, labels, attention_mask = [], [], []
    for example in examples:
        pad = longest - len(example["input_ids"])
        input_ids.append(example["input_ids"] + [pad_token_id] * pad)
        labels.append(example["labels"] + [IGNORE_INDEX] * pad)
        attention_mask.append([1] * len(example["input_ids"]) + [0] * pad)
    return {
        "input_ids": torch.tensor(input_ids, dtype=torch.long),
        "labels": torch.tensor(labels, dtype=torch.long),
        "attention_mask": torch.tensor(attention_mask, dtype=torch.long),
    }
