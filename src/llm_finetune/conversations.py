"""Conversation rows (the ``messages`` schema): the checks a row must pass, and its split into
the earlier turns, the final question and the final answer.

A conversation is a list of ``{"role", "content"}`` turns: an optional ``system`` turn first,
then ``user`` and ``assistant`` turns alternating, starting with ``user`` and ending with
``assistant``. A row that breaks a rule is dropped and counted under the first reason of
:data:`DROP_REASONS` it meets; the data-quality report lists every reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ROLES = ("system", "user", "assistant")
#: Why a conversation row is dropped, in the order the checks run.
DROP_REASONS = (
    "not_a_message_list",  # not valid JSON, not a list, or a turn that is not {role, content}
    "unknown_role",
    "non_string_content",
    "two_system_turns",
    "no_assistant_turn",
    "turns_out_of_order",  # system not first, user/assistant not alternating, or a last user turn
)


@dataclass(frozen=True)
class Conversation:
    """A checked conversation: its ``history`` (the optional system turn and the finished turns
    before the final question), the final ``question`` and its ``answer``."""

    history: list[dict[str, str]]
    question: str
    answer: str


def check_messages(value: Any) -> Conversation | str:
    """``value`` (a list of turns, or its JSON text) as a :class:`Conversation`, or the reason
    (one of :data:`DROP_REASONS`) it is not one."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return "not_a_message_list"
    if not isinstance(value, list) or not value:
        return "not_a_message_list"
    if not all(isinstance(turn, dict) and {"role", "content"} <= set(turn) for turn in value):
        return "not_a_message_list"
    if any(turn["role"] not in ROLES for turn in value):
        return "unknown_role"
    if any(not isinstance(turn["content"], str) for turn in value):
        return "non_string_content"
    roles = [turn["role"] for turn in value]
    if roles.count("system") > 1:
        return "two_system_turns"
    if "assistant" not in roles:
        return "no_assistant_turn"
    turns = value[1:] if roles[0] == "system" else value
    expected = ["user", "assistant"] * (len(turns) // 2 + 1)
    if [turn["role"] for turn in turns] != expected[: len(turns)] or len(turns) % 2:
        return "turns_out_of_order"
    history = [{"role": turn["role"], "content": turn["content"]} for turn in value[:-2]]
    return Conversation(history, value[-2]["content"], value[-1]["content"])


def history_text(history: Sequence[dict[str, str]]) -> str:
    """The JSON text a frame's ``history`` column holds (``[]`` for a one-turn conversation)."""
    return json.dumps(list(history), ensure_ascii=False)


def parse_history(text: str | None) -> list[dict[str, str]]:
    """A ``history`` cell back as turns; null (a row added without one) is no history."""
    return [] if text is None else json.loads(text)
