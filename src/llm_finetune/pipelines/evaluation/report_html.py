"""``comparison_table_html``: one page with the metrics and every answer side by side."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from llm_finetune.disclaimer import DISCLAIMER
from llm_finetune.pipelines.evaluation import registry, report_safety
from llm_finetune.pipelines.evaluation.answers import MODEL_LABELS, models_in

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
.ok { color: #1b6e20; font-weight: 600; }
div.text { white-space: pre-wrap; max-width: 28rem; margin-top: .3rem; }
"""


def render_comparison_html(
    comparison_table: pd.DataFrame,
    evaluation_metrics: Mapping[str, Any],
    error_analysis: Mapping[str, Any] | None = None,
    safety_probe: Mapping[str, Any] | None = None,
    bias_probe: Mapping[str, Any] | None = None,
) -> str:
    """A self-contained HTML page: disclaimer, metrics with their paired 95% intervals, the
    safety probe, the error categories and the bias probe (each when given), then every
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
            baseline_note(evaluation_metrics),
            *([report_safety.safety_section(safety_probe)] if safety_probe else []),
            *([report_safety.error_section(error_analysis)] if error_analysis else []),
            *([report_safety.bias_section(bias_probe)] if bias_probe else []),
            "<h2>Answers</h2>",
            '<p><span class="flag">LOOP</span>: the answer repeats itself (a sentence twice, a '
            "5-word phrase three times, or a short span three times in a row); "
            '<span class="flag">CUT</span>: it did not end before the token limit.</p>',
            answers_table(comparison_table),
            "</body></html>",
            "",
        ]
    )


def baseline_note(evaluation_metrics: Mapping[str, Any]) -> str:
    """Which baseline is the stronger one, when the base model was asked in two formats."""
    baselines = evaluation_metrics.get("baselines") or {}
    if len(baselines.get("compared") or []) < 2:
        return ""
    scores = ", ".join(
        f"{MODEL_LABELS[model]} {_fmt(score)}" for model, score in baselines["scores"].items()
    )
    return (
        f"<p><strong>Stronger baseline: {html.escape(MODEL_LABELS[baselines['stronger']])}"
        f"</strong> (by {html.escape(baselines['by'])}: {html.escape(scores)}); compare the "
        "fine-tuned model with it.</p>"
    )


def _models(evaluation_metrics: Mapping[str, Any]) -> list[str]:
    return [m for m in MODEL_LABELS if m in evaluation_metrics]


def _baselines(evaluation_metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(baseline, its differences key) of every baseline with differences."""
    keys = (("base", "differences"), ("base_chat", "differences_vs_base_chat"))
    return [(model, key) for model, key in keys if key in evaluation_metrics]


def summary_table(evaluation_metrics: Mapping[str, Any]) -> str:
    """One row per registered metric shown in the HTML (by its ``evaluation_metrics`` name): every
    model's values and, per baseline, the paired difference with its interval and tally."""
    models = _models(evaluation_metrics)
    baselines = _baselines(evaluation_metrics)
    header = "".join(f"<th>{html.escape(MODEL_LABELS[m])}</th>" for m in models)
    for model, _ in baselines:
        name = "base" if model == "base" else html.escape(MODEL_LABELS[model])
        header += (
            f"<th>Fine-tuned &minus; {name}</th><th>95% interval</th>"
            "<th>Questions better / same / worse</th>"
        )
    rows = [f"<tr><th>Metric</th>{header}</tr>"]
    for metric in registry.shown("html"):
        cells = "".join(
            f'<td class="num">{html.escape(_fmt(evaluation_metrics[m].get(metric.summary)))}</td>'
            for m in models
        )
        for _, key in baselines:
            differences = evaluation_metrics.get(key) or {}
            cells += _difference_cells(
                differences.get(metric.difference) if metric.difference else None
            )
        rows.append(f"<tr><th>{html.escape(str(metric.summary))}</th>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def answers_table(comparison_table: pd.DataFrame) -> str:
    """Every question with the reference and every model's answer (flagged when they loop or
    were cut, with their error categories) and each answer's token F1."""
    models = models_in(comparison_table)
    f1, loop, eos = (
        registry.get(name).column for name in ("token_f1", "repetition_loop", "ended_with_eos")
    )
    labels = MODEL_LABELS
    heads = "".join(f"<th>{html.escape(labels[m])}: answer</th>" for m in models)
    rows = [
        f"<tr><th>#</th><th>Question</th><th>Reference</th>{heads}"
        f"<th>Token F1 ({html.escape(' / '.join(labels[m].lower() for m in models))})</th></tr>"
    ]
    for number, row in enumerate(comparison_table.to_dict("records"), start=1):
        scores = html.escape(" / ".join(_fmt(row[f"{m}_{f1}"]) for m in models))
        texts = "".join(
            f'<td class="text">{html.escape(str(row[column]))}</td>'
            for column in ("question", "reference_answer")
        )
        for model in models:
            texts += _answer_cell(
                str(row[f"{model}_answer"]),
                bool(row[f"{model}_{loop}"]),
                bool(row[f"{model}_{eos}"]),
                str(row.get(f"{model}_errors") or ""),
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


def _answer_cell(text: str, loop: bool, ended: bool, errors: str = "") -> str:
    flags = ('<span class="flag">LOOP</span> ' if loop else "") + (
        "" if ended else '<span class="flag">CUT</span> '
    )
    css = "text loop" if loop else "text"
    shown = [e for e in errors.split(", ") if e and e not in ("loop", "cut")]
    categories = f"<br><small>errors: {html.escape(', '.join(shown))}</small>" if shown else ""
    return f'<td class="{css}">{flags}{html.escape(text)}{categories}</td>'


def _fmt(value: Any, signed: bool = False) -> str:
    """Numbers for the HTML page: 3 decimals, ``n/a`` for missing or non-finite values."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        return f"{value:+.3f}" if signed else f"{value:.3f}"
    return str(value)
