"""The conversation so far: its finished turns, also read back from the web page's messages.

Read back from the page, an answer loses the guard's notice (:mod:`llm_finetune.safety.guard`):
the notice is shown to the person, never fed to the model as something it said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llm_finetune.safety.guard import strip_notice

#: Shown in place of an empty answer; never kept as a turn.
NO_ANSWER = "(no answer: the model stopped at once)"


@dataclass(frozen=True)
class Turn:
    """One finished exchange of the conversation."""

    question: str
    answer: str


def messages_to_turns(messages: Sequence[Mapping[str, Any]]) -> list[Turn]:
    """Chat messages (``{"role": "user" | "assistant", "content": ...}``) as finished turns.

    A user message followed by an assistant message makes a turn; anything else (a question left
    unanswered, an empty answer) is skipped. An answer's leading guard notice is removed.
    """
    turns: list[Turn] = []
    question: str | None = None
    for message in messages:
        text = message_text(message.get("content"))
        if message.get("role") == "user":
            question = text
        elif message.get("role") == "assistant" and question is not None:
            text = strip_notice(text)
            if text and text != NO_ANSWER:
                turns.append(Turn(question, text))
            question = None
    return turns


def message_text(content: Any) -> str:
    """The text of a chat message's content: a string, ``{"text": ...}`` or a list of those."""
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, Mapping):
        text = content.get("text")
        return text.strip() if isinstance(text, str) else ""
    if isinstance(content, list | tuple):
        return " ".join(part for part in (message_text(item) for item in content) if part)
    return ""
