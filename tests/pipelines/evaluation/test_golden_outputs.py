"""The evaluation reports of fixed answers, byte for byte as the catalog saves them.

The expected files in ``golden/`` were written by the code before the metric registry (run this
module as a script to rewrite them after an intended change): the comparison table, its HTML,
``evaluation_metrics`` and a sweep results row keep their names, order and values.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import polars as pl
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.text import TextDataset

from llm_finetune.pipelines.evaluation import nodes, report_html, summary
from llm_finetune.pipelines.sweep import nodes as sweep_nodes

GOLDEN = Path(__file__).parent / "golden"
QUESTIONS = ["Headache?", "Fever?", "Knee pain?", "Headache?", "Rash?", "Cough?"]
REFERENCES = [
    "Eye strain or sinus congestion. Rest and drink water.",
    "Rest, fluids; see a physician if it lasts.",
    "Often patellofemoral pain. Physiotherapy helps.",
    "Eye strain or sinus congestion. Rest and drink water.",
    "An allergy, most likely. Avoid the trigger.",
    "A viral infection. Honey and warm fluids help.",
]
BASE = [
    ("I am not sure. Please see a doctor.", True, 11),
    ("", True, 1),
    ("pain pain pain pain pain", False, 8),
    ("Eye strain or sinus congestion. Rest and drink water.", True, 14),
    ("NA", True, 2),
    ("血压高怎么办 请咨询医生", False, 8),
]
FINE_TUNED = [
    ("Eye strain, most likely. Rest and drink water.", True, 12),
    ("Rest and fluids. See a physician if the fever lasts.", True, 13),
    ("Physiotherapy helps. Physiotherapy helps. Physiotherapy helps.", False, 8),
    ("Sinus congestion or eye strain: rest.", True, 10),
    ("An allergy. Avoid the trigger.", True, 9),
    ("A viral infection; warm fluids help.", True, 10),
]


def _answers(rows: list[tuple[str, bool, int]]) -> list[dict]:
    return [{"text": t, "ended_with_eos": e, "num_new_tokens": n} for t, e, n in rows]


def _perplexity(row_nll: list[float], row_tokens: list[int]) -> dict:
    tokens = sum(row_tokens)
    return {
        "perplexity": math.exp(sum(row_nll) / tokens),
        "mean_nll": sum(row_nll) / tokens,
        "tokens": tokens,
        "row_nll": row_nll,
        "row_tokens": row_tokens,
    }


def write_reports(directory: Path) -> None:
    """The reports of the fixed answers, saved and read back as the pipeline's catalog does."""
    eval_questions = pl.DataFrame(
        {
            "question": [f"### Question:\n{q}\n### Answer:\n" for q in QUESTIONS],
            "answer": REFERENCES,
            "plain_question": QUESTIONS,
            "line_number": [3, 8, 13, 21, 34, 55],
        }
    )
    table_set = CSVDataset(
        filepath=str(directory / "comparison_table.csv"),
        load_args={"keep_default_na": False},
        save_args={"index": False},
    )
    table_set.save(
        nodes.build_comparison_table(eval_questions, _answers(BASE), [], _answers(FINE_TUNED))
    )
    table = table_set.load()
    tokenized = pl.DataFrame({"plain_question": [*QUESTIONS, "Unlabelled?"]})
    base = _perplexity([20.5, 9.0, 14.25, 20.0, 7.5, 11.0, 0.0], [7, 4, 6, 7, 3, 5, 0])
    tuned = _perplexity([15.0, 8.5, 15.0, 13.0, 5.25, 9.75, 0.0], [7, 4, 6, 7, 3, 5, 0])
    metrics_set = JSONDataset(
        filepath=str(directory / "evaluation_metrics.json"), save_args={"indent": 2}
    )
    metrics_set.save(
        summary.build_evaluation_metrics(table, tokenized, base, {}, tuned, {"max_new_tokens": 16})
    )
    metrics = metrics_set.load()
    TextDataset(filepath=str(directory / "comparison_table.html")).save(
        report_html.render_comparison_html(table, metrics)
    )
    training = {
        "log_history": [{"step": 2, "eval_loss": 2.5}, {"step": 4, "eval_loss": 2.25}],
        "summary": {"train_loss": 2.75, "global_step": 4, "trainable_parameters": 1024},
    }
    row = sweep_nodes.summarize_configuration(
        {"name": "lora_r4", "overrides": {"lora.r": 4}}, training, metrics
    )
    CSVDataset(filepath=str(directory / "sweep_results.csv"), save_args={"index": False}).save(
        sweep_nodes.build_sweep_results(row)
    )


REPORTS = (
    "comparison_table.csv",
    "comparison_table.html",
    "evaluation_metrics.json",
    "sweep_results.csv",
)


def test_reports_of_fixed_answers_are_byte_identical_to_the_golden_files(tmp_path):
    write_reports(tmp_path)
    for name in REPORTS:
        assert (tmp_path / name).read_bytes() == (GOLDEN / name).read_bytes(), name


if __name__ == "__main__":  # rewrite the golden files: python -m tests.pipelines.evaluation...
    write_reports(GOLDEN)
    sys.exit(0)
