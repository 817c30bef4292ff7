"""The rating board: hands out blind pairs (a ticket per pair shown) and records votes.

The page only ever sees a ticket, an opaque random token: which model version is on which side
stays here until the vote is saved, so neither the page nor a tampered request can name or swap
the sides. A ticket is good for one vote; an unknown or used one (a page from before a server
restart, a replayed request, an edited form) is refused and the rater gets a fresh pair.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llm_finetune.datasets.votes import VotesDataset
from llm_finetune.rating.pairs import (
    AnswerSet,
    ModelVersion,
    Pair,
    PairChooser,
    Question,
    candidate_pairs,
)
from llm_finetune.rating.votes import VoteError, check_vote, make_vote


@dataclass(frozen=True)
class Shown:
    """What the page shows for one pair: no model name, no version."""

    ticket: str
    question: str
    reference: str
    answer_a: str
    answer_b: str


@dataclass(frozen=True)
class _Issued:
    pair: Pair
    left: ModelVersion
    right: ModelVersion


class RatingBoard:
    """Pairs of ``answer_sets`` to rate, balanced by the votes already in ``store``."""

    def __init__(
        self,
        questions: Mapping[str, Question],
        answer_sets: Sequence[AnswerSet],
        store: VotesDataset,
        seed: int | None = None,
    ) -> None:
        self.questions = dict(questions)
        self.answers = {item.model: item.answers for item in answer_sets}
        self.store = store
        self.chooser = PairChooser(candidate_pairs(answer_sets), seed)
        self._issued: dict[str, _Issued] = {}
        self._lock = threading.Lock()  # Gradio runs handlers in threads
        for record in store.load():
            if check_vote(record) is None:
                self.chooser.count(
                    record["question_id"],
                    ModelVersion.from_dict(record["left"]),
                    ModelVersion.from_dict(record["right"]),
                )

    @property
    def models(self) -> list[ModelVersion]:
        return sorted(self.answers)

    @property
    def votes_counted(self) -> int:
        """Votes for the current pairs: those in the store at start and this board's since."""
        return self.chooser.votes

    def is_open(self, ticket: str) -> bool:
        """Whether ``ticket`` names a pair shown and not voted on yet."""
        with self._lock:
            return ticket in self._issued

    def next_pair(self) -> Shown:
        with self._lock:
            pair = self.chooser.choose()
            left, right = self.chooser.sides(pair)
            ticket = secrets.token_urlsafe(16)
            self._issued[ticket] = _Issued(pair, left, right)
        question = self.questions[pair.question_id]
        return Shown(
            ticket,
            question.text,
            question.reference,
            self.answers[left][pair.question_id],
            self.answers[right][pair.question_id],
        )

    def vote(
        self,
        ticket: str,
        choice: Any,
        rater: Any,
        left_tags: Iterable[Any] | None = None,
        right_tags: Iterable[Any] | None = None,
        note: Any = "",
    ) -> dict[str, Any]:
        """Save one vote for the pair behind ``ticket``; the saved record (which names the
        sides). :class:`VoteError` when refused: nothing is saved then."""
        with self._lock:
            issued = self._issued.get(ticket or "")
            if issued is None:
                raise VoteError(
                    "this pair is no longer offered (the page is older than the server, or the "
                    "vote was already saved): nothing was saved, here is a new pair"
                )
            if issued.pair.key not in self.chooser.keys:
                raise VoteError("this pair no longer exists: nothing was saved")
            record = make_vote(
                issued.pair.question_id,
                issued.left,
                issued.right,
                choice,
                rater,
                left_tags,
                right_tags,
                note,
            )
            self.store.append(record)
            del self._issued[ticket]  # one vote per pair shown
            self.chooser.count(issued.pair.question_id, issued.left, issued.right)
        return record

    def forget_pairs_of(self, model: ModelVersion) -> None:
        """Stop offering ``model`` (its answers were deleted): its open tickets are refused."""
        with self._lock:
            self.chooser = self.chooser.without(model)
            self.answers.pop(model, None)
