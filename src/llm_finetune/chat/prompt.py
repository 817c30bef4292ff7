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
from llm_finetune.modeling.prompt_format import PromptFormat, as_prompt_format


@dataclass(frozen=True)
class ChatPrompt:
    """The token ids given to the model, and how much of the history they hold."""

    input_ids: list[int]
    turns_kept: int
    turns_dropped: int


def prompt_ids(
    tokenizer: Any, prompt_format: PromptFormat | str, question: str, first: bool = True
) -> list[int]:
    """A question's prompt (a conversation's first turn, or a later one), tokenized as training
    tokenizes prompts (special tokens on)."""
    fmt = as_prompt_format(prompt_format)
    return prompt_token_ids(tokenizer, fmt.render_turn(question, first))


def turn_ids(
    tokenizer: Any, prompt_format: PromptFormat | str, turn: Turn, first: bool = True
) -> list[int]:
    """A finished turn as a completed training example: prompt ids, answer ids, EOS."""
    fmt = as_prompt_format(prompt_format)
    return example_token_ids(tokenizer, fmt.render_turn(turn.question, first), turn.answer)


def build_prompt(
    tokenizer: Any,
    prompt_format: PromptFormat | str,
    history: Sequence[Turn],
    question: str,
    *,
    max_prompt_tokens: int,
) -> ChatPrompt:
    """Previous turns (newest kept first) and the new prompt, in at most ``max_prompt_tokens``.

    Turns are dropped oldest first; the kept ones are always the most recent, contiguous. The
    oldest kept turn is rendered as the conversation's first (a chat template's system turn goes
    there), the others and the new question as later turns. Raises :class:`ChatError` when the
    question alone does not fit.
    """
    fmt = as_prompt_format(prompt_format)
    alone = prompt_ids(tokenizer, fmt, question, first=True)
    if len(alone) > max_prompt_tokens:
        raise ChatError(
            f"the question is {len(alone)} tokens long; at most {max_prompt_tokens} fit the "
            "model's context next to the answer: shorten it (or lower --max-new-tokens)"
        )
    best: list[list[int]] = [alone]
    later_prompt = prompt_ids(tokenizer, fmt, question, first=False)
    later_turns: list[list[int]] = []  # newest first, each rendered as a later turn
    used = len(later_prompt)
    for turn in reversed(history):
        as_first = turn_ids(tokenizer, fmt, turn, first=True)
        if used + len(as_first) > max_prompt_tokens:
            break
        best = [as_first, *reversed(later_turns), later_prompt]
        later = turn_ids(tokenizer, fmt, turn, first=False)
        later_turns.append(later)
        used += len(later)
    input_ids = [token for ids in best for token in ids]
    kept = len(best) - 1
    return ChatPrompt(input_ids, turns_kept=kept, turns_dropped=len(history) - kept)


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
