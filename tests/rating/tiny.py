"""A tiny Kedro project with saved answers of a few model versions, for the rating page's tests
and benchmarks/rating_latency.py: the project's conf/base, one test_qa version and answers
datasets written as the evaluation pipeline writes them (versioned JSON, one folder a version)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
QUESTIONS_VERSION = "2026-01-01T00.00.00.000Z"
V1, V2 = "2026-01-02T00.00.00.000Z", "2026-01-03T00.00.00.000Z"
#: (answers dataset, version) of each model version of the tiny project.
MODELS: tuple[tuple[str, str], ...] = (
    ("base_answers", V1),
    ("fine_tuned_answers", V1),
    ("fine_tuned_answers", V2),
)


def question(i: int) -> str:
    return f"Question {i}: I have had a mild headache for {i + 2} days, what should I do?"


def answer(model: int, i: int) -> str:
    """An answer that names no model: the page must never show which version wrote it."""
    return f"Answer {model}-{i}: rest, drink water and see a doctor if it lasts {model + i} days."


def make_project(
    destination: Path,
    questions: int = 6,
    models: Sequence[tuple[str, str]] = MODELS,
    sweep: Sequence[tuple[str, str]] = (),
) -> Path:
    """The project at ``destination`` (conf/base, pyproject.toml, an empty src/); ``sweep``:
    (configuration, version) of sweep comparison tables, answers numbered after ``models``'."""
    import pandas as pd
    import polars as pl
    from kedro.io import Version
    from kedro_datasets.json import JSONDataset
    from kedro_datasets.pandas import CSVDataset
    from kedro_datasets.polars import EagerPolarsDataset

    shutil.copytree(PROJECT_ROOT / "conf" / "base", destination / "conf" / "base")
    (destination / "conf" / "local").mkdir()
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", destination / "pyproject.toml")
    (destination / "src").mkdir()  # bootstrap_project checks that the source folder exists
    rows = [
        {
            "question": f"### Question:\n{question(i)}\n### Answer:\n",
            "answer": f"Reference {i}: usually harmless; rest and fluids.",
            "plain_question": question(i),
            "line_number": i + 1,
        }
        for i in range(questions)
    ]
    EagerPolarsDataset(
        filepath=str(destination / "data/03_primary/test_qa.jsonl"),
        file_format="ndjson",
        version=Version(None, QUESTIONS_VERSION),
    ).save(pl.DataFrame(rows))
    for k, (name, version) in enumerate(models):
        JSONDataset(
            filepath=str(destination / f"data/07_model_output/{name}.json"),
            version=Version(None, version),
        ).save([{"text": answer(k, i), "ended_with_eos": True} for i in range(questions)])
    for k, (configuration, version) in enumerate(sweep, start=len(models)):
        table = {
            "line_number": [row["line_number"] for row in rows],
            "question": [row["plain_question"] for row in rows],
            "reference_answer": [row["answer"] for row in rows],
            "base_answer": [answer(0, i) for i in range(questions)],
            "fine_tuned_answer": [answer(k, i) for i in range(questions)],
        }
        CSVDataset(
            filepath=str(
                destination / f"data/08_reporting/sweep/{configuration}/comparison_table.csv"
            ),
            version=Version(None, version),
            save_args={"index": False},
        ).save(pd.DataFrame(table))
    return destination
