"""How a question/answer pair becomes token ids: the layout training learns and inference reads.

- only answer tokens carry a loss by default (prompt labels are :data:`IGNORE_INDEX`);
- the EOS token is appended to every answer that fits and is *labelled*, so the model learns to
  stop. Labels are built before padding, so with ``pad == eos`` (the walkthrough's choice) padding
  masks can never erase the real EOS label (see ``pipelines/training/packing.collate_rows``).
"""

from __future__ import annotations

import sys
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


def prompt_token_ids(tokenizer: Any, prompt: str) -> list[int]:
    """A rendered prompt's ids as :func:`tokenize_pair` tokenizes prompts (special tokens on):
    what the model reads before an answer, in training and at inference (the chat)."""
    return list(tokenizer(prompt, add_special_tokens=True)["input_ids"])


def example_token_ids(tokenizer: Any, prompt: str, answer: str) -> list[int]:
    """One finished example laid out by :func:`tokenize_pair` itself, never truncated: prompt ids,
    answer ids, EOS. The chat prompts earlier turns of a conversation this way."""
    example = tokenize_pair(tokenizer, prompt, answer, max_length=sys.maxsize)
    assert example is not None  # no prompt is sys.maxsize tokens long
    return example.input_ids
