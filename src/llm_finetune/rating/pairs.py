"""The model versions that can be compared and the pairs shown to raters.

A model version is one catalog version of an answers dataset (``base_answers``,
``base_chat_answers``, ``fine_tuned_answers``): (dataset name, version timestamp). Its answers
are a list, one per test question, in the order of the ``test_qa`` version its run read: the
newest ``test_qa`` version not newer than the answers (a run pins "latest at start", and a run
that writes ``test_qa`` itself saves both at one version). A sweep configuration's version is one
version of its ``sweep.<configuration>.comparison_table`` (question, reference and fine-tuned
answer per row). A question is identified by a hash of its text, so two runs over the same test
split share their questions.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: The answers datasets of conf/base/catalog_evaluation.yml that hold one answer per test
#: question (the sweep's configurations: their comparison tables, :data:`SWEEP_TABLE`).
ANSWER_DATASETS: tuple[str, ...] = ("base_answers", "base_chat_answers", "fine_tuned_answers")
QUESTIONS_DATASET = "test_qa"
#: The sweep saves each configuration's answers in its comparison table (catalog_sweep.yml).
SWEEP_TABLE = "sweep.{configuration}.comparison_table"


@dataclass(frozen=True, order=True)
class ModelVersion:
    """One catalog version of one answers dataset."""

    dataset: str
    version: str

    @property
    def label(self) -> str:
        return f"{self.dataset}@{self.version}"

    def to_dict(self) -> dict[str, str]:
        return {"dataset": self.dataset, "version": self.version}

    @classmethod
    def from_dict(cls, data: Any) -> ModelVersion:
        if not isinstance(data, Mapping) or not all(
            isinstance(data.get(key), str) and data.get(key) for key in ("dataset", "version")
        ):
            raise ValueError(f"a model version needs a dataset and a version, got {data!r}")
        return cls(data["dataset"], data["version"])


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    reference: str


@dataclass(frozen=True)
class AnswerSet:
    """A model version's answers, by question id."""

    model: ModelVersion
    answers: Mapping[str, str]


@dataclass(frozen=True)
class Pair:
    """Two model versions' answers to one question, in a canonical (sorted) order: the sides
    shown are drawn when the pair is handed out."""

    question_id: str
    first: ModelVersion
    second: ModelVersion

    @property
    def key(self) -> tuple[str, ModelVersion, ModelVersion]:
        return (self.question_id, self.first, self.second)


def question_id(text: str) -> str:
    """A stable id of a question: the same text in two test splits gets the same id."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def questions_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Question]:
    """``test_qa`` rows (``plain_question`` or ``question``, ``answer``) as questions, in order."""
    questions = []
    for row in rows:
        text = str(row.get("plain_question") or row.get("question") or "")
        questions.append(Question(question_id(text), text, str(row.get("answer") or "")))
    return questions


def answer_set(
    model: ModelVersion, answers: Sequence[Any], questions: Sequence[Question]
) -> AnswerSet | None:
    """Align a model version's answers (``{"text": ...}`` records or strings) with the questions
    its run read: the first ones (evaluation answers the first ``evaluation.num_questions`` test
    rows). None, with a warning, when there are more answers than questions: not that split's."""
    if len(answers) > len(questions):
        logger.warning(
            "%s: %d answers for %d test questions of the test_qa version before it: skipped",
            model.label,
            len(answers),
            len(questions),
        )
        return None
    texts = {}
    for question, answer in zip(questions[: len(answers)], answers, strict=True):
        text = answer.get("text", "") if isinstance(answer, Mapping) else str(answer)
        texts[question.id] = str(text)
    return AnswerSet(model, texts)


def answer_set_from_table(model: ModelVersion, rows: Iterable[Mapping[str, Any]]):
    """A model version's answers from a comparison table (``question``, ``reference_answer``,
    ``fine_tuned_answer`` columns: what the sweep saves per configuration), and its questions."""
    questions, texts = [], {}
    for row in rows:
        question = Question(
            question_id(str(row["question"])), str(row["question"]), str(row["reference_answer"])
        )
        questions.append(question)
        texts[question.id] = str(row["fine_tuned_answer"])
    return AnswerSet(model, texts), questions


def questions_for(version: str, question_versions: Mapping[str, Sequence[Question]]):
    """The questions of the newest ``test_qa`` version not newer than ``version`` (Kedro's
    version timestamps sort as text), or None."""
    older = [v for v in question_versions if v <= version]
    return question_versions[max(older)] if older else None


def candidate_pairs(answer_sets: Sequence[AnswerSet]) -> list[Pair]:
    """Every (question, two model versions) where both answered and the texts differ (two
    identical answers leave nothing to judge)."""
    pairs = []
    ordered = sorted(answer_sets, key=lambda item: item.model)
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            for qid in sorted(first.answers.keys() & second.answers.keys()):
                if first.answers[qid].strip() != second.answers[qid].strip():
                    pairs.append(Pair(qid, first.model, second.model))
    return pairs


class PairChooser:
    """Balanced choice of the next pair: the model pair with the fewest votes, then its question
    with the fewest votes, ties broken at random (seeded). Counts are kept per pair index, so a
    choice costs a scan of plain integers (well under the page's 300 ms per vote)."""

    def __init__(self, pairs: Sequence[Pair], seed: int | None = None) -> None:
        self.pairs = list(pairs)
        self.keys = {pair.key: index for index, pair in enumerate(self.pairs)}
        self._rng = random.Random(seed)
        self._pair_votes = [0] * len(self.pairs)
        self._groups: dict[tuple[ModelVersion, ModelVersion], list[int]] = {}
        for index, pair in enumerate(self.pairs):
            self._groups.setdefault((pair.first, pair.second), []).append(index)
        self._group_votes = dict.fromkeys(self._groups, 0)

    @property
    def pair_votes(self) -> Counter:
        """Votes per pair key (of the current pairs)."""
        return Counter({p.key: n for p, n in zip(self.pairs, self._pair_votes, strict=True) if n})

    @property
    def model_pair_votes(self) -> Counter:
        """Votes per (first, second) model versions."""
        return Counter({group: n for group, n in self._group_votes.items() if n})

    @property
    def votes(self) -> int:
        return sum(self._pair_votes)

    def count(self, question: str, a: ModelVersion, b: ModelVersion) -> None:
        """Count a vote (of any side order) of a current pair; others are ignored."""
        first, second = sorted((a, b))
        index = self.keys.get((question, first, second))
        if index is not None:
            self._pair_votes[index] += 1
            self._group_votes[(first, second)] += 1

    def choose(self) -> Pair:
        if not self.pairs:
            raise LookupError("no pair to rate: fewer than two model versions with answers")
        fewest_group = min(self._group_votes.values())
        indices = [
            index
            for group, members in self._groups.items()
            if self._group_votes[group] == fewest_group
            for index in members
        ]
        fewest = min(self._pair_votes[index] for index in indices)
        return self.pairs[self._rng.choice([i for i in indices if self._pair_votes[i] == fewest])]

    def sides(self, pair: Pair) -> tuple[ModelVersion, ModelVersion]:
        """The pair's (left, right), drawn at random."""
        return (pair.first, pair.second) if self._rng.random() < 0.5 else (pair.second, pair.first)

    def without(self, model: ModelVersion) -> PairChooser:
        """The same chooser (counts, random state) without the pairs of ``model``."""
        kept = PairChooser([p for p in self.pairs if model not in (p.first, p.second)])
        kept._rng = self._rng
        for pair, votes in zip(self.pairs, self._pair_votes, strict=True):
            for _ in range(votes):
                kept.count(pair.question_id, pair.first, pair.second)
        return kept


def list_versions(filepath: Path) -> list[str]:
    """The saved versions of a versioned local file dataset (``<filepath>/<version>/<name>``)."""
    if not filepath.is_dir():
        return []
    return sorted(child.name for child in filepath.iterdir() if (child / filepath.name).is_file())


def sweep_tables(pattern_filepath: str, project_path: Path) -> dict[str, Path]:
    """The sweep configurations' comparison tables saved so far: entry name
    (``sweep.<configuration>.comparison_table``) -> its filepath, from the catalog pattern's
    ``filepath`` (``.../sweep/{configuration}/comparison_table.csv``)."""
    if "{configuration}" not in pattern_filepath:
        return {}
    before, after = pattern_filepath.split("{configuration}", 1)
    root = Path(before) if Path(before).is_absolute() else project_path / before
    if not root.is_dir():
        return {}
    return {
        SWEEP_TABLE.format(configuration=folder.name): folder / after.lstrip("/")
        for folder in sorted(root.iterdir())
        if (folder / after.lstrip("/")).is_dir()
    }


def load_from_catalog(
    catalog: Any,
    filepaths: Mapping[str, Path],
    answer_datasets: Sequence[str] = ANSWER_DATASETS,
    questions_dataset: str = QUESTIONS_DATASET,
    tables: Mapping[str, Path] | None = None,
) -> tuple[dict[str, Question], list[AnswerSet]]:
    """Every saved version of each answers dataset, aligned with its questions, loaded through
    ``catalog`` (``filepaths``: each dataset's ``filepath``, to list its versions), and the
    fine-tuned answers of every saved version of each comparison table of ``tables`` (entry ->
    filepath; the sweep's configurations)."""
    question_versions: dict[str, list[Question]] = {}
    for version in list_versions(filepaths[questions_dataset]):
        frame = catalog.load(questions_dataset, version=version)
        rows = frame.to_dicts() if hasattr(frame, "to_dicts") else frame.to_dict("records")
        question_versions[version] = questions_from_rows(rows)
    questions: dict[str, Question] = {}
    sets: list[AnswerSet] = []
    for name in answer_datasets:
        for version in list_versions(filepaths[name]):
            asked = questions_for(version, question_versions)
            if asked is None:
                logger.warning("%s@%s: no test_qa version before it: skipped", name, version)
                continue
            loaded = answer_set(
                ModelVersion(name, version), catalog.load(name, version=version), asked
            )
            if loaded is not None:
                sets.append(loaded)
                questions.update({question.id: question for question in asked})
    for name, filepath in (tables or {}).items():
        for version in list_versions(filepath):
            frame = catalog.load(name, version=version)
            loaded, asked = answer_set_from_table(
                ModelVersion(name, version), frame.to_dict("records")
            )
            sets.append(loaded)
            questions.update({question.id: question for question in asked})
    return questions, sets
