"""History and question as the model's prompt ids, within its context: the training layout.

Earlier turns are laid out as finished training examples (prompt ids, answer ids, EOS: exactly
:func:`~llm_finetune.modeling.examples.tokenize_pair`'s layout), followed by the new
question's prompt. The oldest turns are dropped until the prompt fits the budget (the model's
context minus ``max_new_tokens``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llm_finetune.chat.errors import ChatError
from llm_finetune.chat.history import Turn
from llm_finetune.modeling.examples import example_token_ids, prompt_token_ids
from llm_finetune.modeling.prompt_format import render_prompt


@dataclass(frozen=True)
class ChatPrompt:
    """The token ids given to the model, and how much of the history they hold."""

    input_ids: list[int]
    turns_kept: int
    turns_dropped: int


def prompt_ids(tokenizer: Any, template: str, question: str) -> list[int]:
    """The new question's prompt, tokenized as training tokenizes prompts (special tokens on)."""
    return prompt_token_ids(tokenizer, render_prompt(template, question))


def turn_ids(tokenizer: Any, template: str, turn: Turn) -> list[int]:
    """A finished turn as a completed training example: prompt ids, answer ids, EOS."""
    return example_token_ids(tokenizer, render_prompt(template, turn.question), turn.answer)


def build_prompt(
    tokenizer: Any,
    template: str,
    history: Sequence[Turn],
    question: str,
    *,
    max_prompt_tokens: int,
) -> ChatPrompt:
    """Previous turns (newest kept first) and the new prompt, in at most ``max_prompt_tokens``.

    Turns are dropped oldest first; the kept ones are always the most recent, contiguous. Raises
    :class:`ChatError` when the question alone does not fit.
    """
    new_prompt = prompt_ids(tokenizer, template, question)
    if len(new_prompt) > max_prompt_tokens:
        raise ChatError(
            f"the question is {len(new_prompt)} tokens long; at most {max_prompt_tokens} fit the "
            "model's context next to the answer: shorten it (or lower --max-new-tokens)"
        )
    kept: list[list[int]] = []
    used = len(new_prompt)
    for turn in reversed(history):
        ids = turn_ids(tokenizer, template, turn)
        if used + len(ids) > max_prompt_tokens:
            break
        kept.append(ids)
        used += len(ids)
    input_ids = [token for ids in reversed(kept) for token in ids] + new_prompt
    return ChatPrompt(input_ids, turns_kept=len(kept), turns_dropped=len(history) - len(kept))


def context_tokens(model: Any, override: int | None = None) -> int:
    """Tokens the model can attend to: ``override``, else its config's position limit."""
    if override is not None:
        if override < 2:
            raise ChatError(f"--context-tokens must be >= 2, got {override}")
        return override
    config = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions", "n_ctx"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    raise ChatError("the model's config states no context length: pass --context-tokens N")
