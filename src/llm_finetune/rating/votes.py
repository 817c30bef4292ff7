"""What a vote holds, checked when it is made and again when the leaderboard reads it.

A vote record (one line of ``human_votes``)::

    {"vote_id": "...", "question_id": "...", "choice": "a_better",
     "left": {"dataset": "base_answers", "version": "...", "tags": ["off_topic"]},
     "right": {"dataset": "fine_tuned_answers", "version": "...", "tags": []},
     "rater": "dr. lee", "time": "2026-12-06T13:05:01.123456+00:00", "note": "..."}

``left`` is answer A on the page, ``right`` answer B.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from llm_finetune.rating.pairs import ModelVersion

#: Stored choice -> the button's label. A is the left answer, B the right one.
CHOICES: dict[str, str] = {
    "a_better": "A is better",
    "b_better": "B is better",
    "tie": "Tie",
    "both_unacceptable": "Both unacceptable",
}
#: Tags a rater may put on an answer: the error-analysis categories' names where one exists
#: (pipelines/evaluation/categories.py), plus what only a person can judge (wrong_fact, unsafe).
TAGS: dict[str, str] = {
    "wrong_fact": "wrong fact",
    "unsafe": "unsafe",
    "missed_escalation": "missed emergency",
    "invented_dose": "invented dose",
    "off_topic": "off-topic",
    "boilerplate_only": "boilerplate",
}
MAX_NOTE_CHARS = 5_000
MAX_RATER_CHARS = 100


class VoteError(ValueError):
    """A vote that is refused; the message says why, for the rater."""


def clean_rater(rater: Any) -> str:
    name = " ".join(str(rater or "").split())
    if not name:
        raise VoteError("type your name (rater) before voting: a vote without one is not saved")
    if len(name) > MAX_RATER_CHARS:
        raise VoteError(f"the rater name is longer than {MAX_RATER_CHARS} characters")
    return name


def clean_note(note: Any) -> str:
    text = str(note or "").strip()
    if len(text) > MAX_NOTE_CHARS:
        # Refused rather than cut: the rater keeps the whole note in the box and shortens it.
        raise VoteError(
            f"the note has {len(text):,} characters, more than the {MAX_NOTE_CHARS:,} allowed: "
            "shorten it and vote again (nothing was saved)"
        )
    return text


def clean_tags(tags: Iterable[Any] | None) -> list[str]:
    chosen = list(tags or [])
    unknown = [tag for tag in chosen if tag not in TAGS]
    if unknown:
        raise VoteError(f"unknown tags {unknown!r} (known: {', '.join(TAGS)})")
    return sorted(set(chosen))


def clean_choice(choice: Any) -> str:
    if choice not in CHOICES:
        raise VoteError(f"unknown choice {choice!r} (one of {', '.join(CHOICES)})")
    return choice


def make_vote(
    question_id: str,
    left: ModelVersion,
    right: ModelVersion,
    choice: Any,
    rater: Any,
    left_tags: Iterable[Any] | None = None,
    right_tags: Iterable[Any] | None = None,
    note: Any = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """A checked vote record; :class:`VoteError` names what is wrong."""
    if left == right:
        raise VoteError("both sides show the same model version")
    return {
        "vote_id": uuid.uuid4().hex,
        "question_id": question_id,
        "choice": clean_choice(choice),
        "left": {**left.to_dict(), "tags": clean_tags(left_tags)},
        "right": {**right.to_dict(), "tags": clean_tags(right_tags)},
        "rater": clean_rater(rater),
        "time": (now or datetime.now(UTC)).isoformat(),
        "note": clean_note(note),
    }


def check_vote(record: Mapping[str, Any]) -> str | None:
    """Why a stored record is not a usable vote (a hand-edited or tampered line), or None."""
    try:
        if not isinstance(record.get("question_id"), str) or not record["question_id"]:
            return "no question_id"
        left = ModelVersion.from_dict(record.get("left"))
        right = ModelVersion.from_dict(record.get("right"))
        if left == right:
            return "both sides name the same model version"
        clean_choice(record.get("choice"))
        clean_rater(record.get("rater"))
        clean_tags(record["left"].get("tags"))
        clean_tags(record["right"].get("tags"))
        if not isinstance(record.get("time"), str):
            return "no time"
    except (VoteError, ValueError) as error:
        return str(error)
    return None
