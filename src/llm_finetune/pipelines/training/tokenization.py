"""Turning question/answer pairs into causal-LM training examples.

The rules that decide what the model learns live here, so that tests can pin them down:
- only answer tokens carry a loss by default (prompt labels are -100);
- the EOS token is appended to every answer that fits and is *labelled*, so the model learns to
  stop. Labels are built before padding, so with ``pad == eos`` (the walkthrough's choice) padding
  masks can never erase the real EOS label (see ``packing.collate_rows``).
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
