"""``comparison_table_html``: one page with the metrics and every answer side by side."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from llm_finetune.disclaimer import DISCLAIMER
from llm_finetune.pipelines.evaluation import registry
from llm_finetune.pipelines.evaluation.answers import MODELS

_HTML_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
.note { background: #fff4ce; border: 1px solid #e0c060; padding: .6rem 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .4rem .6rem; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
td.text { white-space: pre-wrap; max-width: 28rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.loop { background: #fde2e1; }
.flag { color: #b3261e; font-weight: 600; }
"""


def render_comparison_html(
    comparison_table: pd.DataFrame, evaluation_metrics: Mapping[str, Any]
) -> str:
    """A self-contained HTML page: disclaimer, metrics with their paired 95% intervals, then every
    question side by side (answers that loop are highlighted)."""
    esc = html.escape
    settings = esc(
        ", ".join(f"{k}={v}" for k, v in (evaluation_metrics.get("generation") or {}).items())
    )
    uncertainty = evaluation_metrics.get("uncertainty") or {}
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            "<title>Base vs fine-tuned answers</title>",
            f"<style>{_HTML_CSS}</style></head><body>",
            "<h1>Base vs fine-tuned answers</h1>",
            f'<p class="note">{esc(DISCLAIMER)}</p>',
            f"<p>{evaluation_metrics.get('num_questions', len(comparison_table))} test questions "
            f"({len(comparison_table)} answers); both models decoded with the same settings: "
            f"{settings or 'defaults'}.</p>",
            "<h2>Summary</h2>",
            summary_table(evaluation_metrics),
            f"<p>{esc(uncertainty.get('method', ''))}. {esc(uncertainty.get('caveat', ''))}.</p>",
            "<h2>Answers</h2>",
            '<p><span class="flag">LOOP</span>: the answer repeats itself (a sentence twice, a '
            "5-word phrase three times, or a short span three times in a row); "
            '<span class="flag">CUT</span>: it did not end before the token limit.</p>',
            answers_table(comparison_table),
            "</body></html>",
            "",
        ]
    )


def summary_table(evaluation_metrics: Mapping[str, Any]) -> str:
    """One row per registered metric shown in the HTML (by its ``evaluation_metrics`` name): both
    models' values and, when it has one, the paired difference with its interval and tally."""
    differences = evaluation_metrics.get("differences") or {}
    rows = [
        "<tr><th>Metric</th><th>Base</th><th>Fine-tuned</th><th>Fine-tuned &minus; base</th>"
        "<th>95% interval</th><th>Questions better / same / worse</th></tr>"
    ]
    for metric in registry.shown("html"):
        cells = "".join(
            f'<td class="num">{html.escape(_fmt(evaluation_metrics[m].get(metric.summary)))}</td>'
            for m in MODELS
        )
        cells += _difference_cells(
            differences.get(metric.difference) if metric.difference else None
        )
        rows.append(f"<tr><th>{html.escape(str(metric.summary))}</th>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def answers_table(comparison_table: pd.DataFrame) -> str:
    """Every question with the reference and both answers (flagged when they loop or were cut)
    and both answers' token F1."""
    f1, loop, eos = (
        registry.get(name).column for name in ("token_f1", "repetition_loop", "ended_with_eos")
    )
    rows = [
        "<tr><th>#</th><th>Question</th><th>Reference</th><th>Base answer</th>"
        "<th>Fine-tuned answer</th><th>Token F1 (base / fine-tuned)</th></tr>"
    ]
    for number, row in enumerate(comparison_table.to_dict("records"), start=1):
        scores = html.escape(f"{_fmt(row[f'base_{f1}'])} / {_fmt(row[f'fine_tuned_{f1}'])}")
        texts = "".join(
            f'<td class="text">{html.escape(str(row[column]))}</td>'
            for column in ("question", "reference_answer")
        )
        for model in MODELS:
            texts += _answer_cell(
                str(row[f"{model}_answer"]),
                bool(row[f"{model}_{loop}"]),
                bool(row[f"{model}_{eos}"]),
            )
        rows.append(f'<tr><td class="num">{number}</td>{texts}<td class="num">{scores}</td></tr>')
    return "<table>" + "".join(rows) + "</table>"


def _difference_cells(difference: Mapping[str, Any] | None) -> str:
    if not difference:
        return '<td class="num">&ndash;</td>' * 3
    interval = f"[{_fmt(difference.get('ci_low'))}, {_fmt(difference.get('ci_high'))}]"
    tally = (
        f"{difference['wins']} / {difference['ties']} / {difference['losses']}"
        if "wins" in difference
        else "&ndash;"
    )
    return (
        f'<td class="num">{html.escape(_fmt(difference.get("difference"), signed=True))}</td>'
        f'<td class="num">{html.escape(interval)}</td><td class="num">{tally}</td>'
    )


def _answer_cell(text: str, loop: bool, ended: bool) -> str:
    flags = ('<span class="flag">LOOP</span> ' if loop else "") + (
        "" if ended else '<span class="flag">CUT</span> '
    )
    css = "text loop" if loop else "text"
    return f'<td class="{css}">{flags}{html.escape(text)}</td>'


def _fmt(value: Any, signed: bool = False) -> str:
    """Numbers for the HTML page: 3 decimals, ``n/a`` for missing or non-finite values."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        return f"{value:+.3f}" if signed else f"{value:.3f}"
    return str(value)
