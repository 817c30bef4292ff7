"""The HTML sections of what resemblance scores cannot see: the safety probe (every red-flag
answer with the rules' verdicts, alone and behind the chats' guard), the error categories of every
model beside the training answers', and the bias probe's pairs whose advice changes."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from llm_finetune.pipelines.evaluation.answers import MODEL_LABELS

esc = html.escape
TRAINING = "training_answers"
LABELS = {**MODEL_LABELS, TRAINING: "Training answers"}


def percent(cell: Mapping[str, Any] | None) -> str:
    """``12% [5%, 25%] (6)`` of a ``{count, rate, ci_low, ci_high}`` rate."""
    if not cell or cell.get("rate") is None:
        return "n/a"
    return f"{cell['rate']:.0%} [{cell['ci_low']:.0%}, {cell['ci_high']:.0%}] ({cell['count']})"


def signed_points(cell: Mapping[str, Any] | None) -> str:
    """A paired difference of rates in percentage points, with its interval."""
    if not cell or cell.get("difference") is None:
        return "n/a"
    return (
        f"{cell['difference'] * 100:+.0f} pts [{cell['ci_low'] * 100:+.0f}, "
        f"{cell['ci_high'] * 100:+.0f}]"
    )


def _row(cells: Sequence[str], header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def safety_section(safety_probe: Mapping[str, Any]) -> str:
    """Rates per model, the differences, the guard, the rules' blind spots and every answer."""
    models = safety_probe["models"]
    summary = safety_probe["summary"]
    rows = [_row(["Model", "Escalates", "Invents a dose", "Escalates with the guard"], True)]
    for model in models:
        rates = summary[model]
        rows.append(
            _row(
                [
                    esc(LABELS[model]),
                    percent(rates["escalation"]),
                    percent(rates["invented_dose"]),
                    percent(rates["escalation_with_guard"]),
                ]
            )
        )
    differences = [_row(["Fine-tuned minus", "Escalates", "Invents a dose", "With guard"], True)]
    for key, cells in safety_probe["differences"].items():
        baseline = key.removeprefix("fine_tuned_vs_")
        differences.append(
            _row(
                [
                    esc(LABELS[baseline]),
                    signed_points(cells["escalates"]),
                    signed_points(cells["invented_doses"]),
                    signed_points(cells["escalates_with_guard"]),
                ]
            )
        )
    guard = safety_probe["guard"]
    spots = "".join(f"<li>{esc(spot)}</li>" for spot in safety_probe["blind_spots"])
    return "\n".join(
        [
            '<h2 id="safety">Safety probe: red-flag questions</h2>',
            f"<p>{len(safety_probe['questions'])} hand-written red-flag questions (set version "
            f"{esc(str(safety_probe['set_version']))}), each asked to every model in its own "
            f"format. {esc(safety_probe['method'])}.</p>",
            "<table>" + "".join(rows) + "</table>",
            "<table>" + "".join(differences) + "</table>",
            f"<p>The chats' red-flag guard (rule set {esc(str(guard['ruleset_version']))}, "
            f"{guard['rules']} rules) flags {percent(guard['questions_flagged'])} of these "
            "questions and puts its emergency notice before the answer. On the ordinary test "
            f"questions it raises {percent(guard['test_questions_flagged'])} alarms"
            f"{_alarms(guard['test_questions_flagged']['questions'])}.</p>",
            f"<p>What the rules cannot see:</p><ul>{spots}</ul>",
            _red_flag_answers(safety_probe),
        ]
    )


def _alarms(alarms: Sequence[Mapping[str, Any]]) -> str:
    if not alarms:
        return ""
    listed = "; ".join(
        f"{esc(alarm['question'])} ({esc(', '.join(alarm['guard_rules']))})" for alarm in alarms
    )
    return f": {listed}"


def _verdict(cell: Mapping[str, Any]) -> str:
    flags = [
        '<span class="ok">ESCALATES</span>'
        if cell["escalates"]
        else ('<span class="flag">NO ESCALATION</span>')
    ]
    if cell["invented_doses"]:
        doses = esc(", ".join(cell["invented_doses"]))
        flags.append(f'<span class="flag">INVENTED DOSE: {doses}</span>')
    if not cell["ended_with_eos"]:
        flags.append('<span class="flag">CUT</span>')
    return " ".join(flags)


def _red_flag_answers(safety_probe: Mapping[str, Any]) -> str:
    models = safety_probe["models"]
    rows = [_row(["#", "Question (expected)", *(esc(LABELS[m]) for m in models)], True)]
    for number, item in enumerate(safety_probe["questions"], start=1):
        guard = ", ".join(item["guard_rules"]) or "no rule"
        question = (
            f"{esc(item['question'])}<br><small>{esc(item['expected_action'])}; "
            f"{esc(item['topic'])}; guard: {esc(guard)}</small>"
        )
        cells = [
            f'{_verdict(item[m])}<div class="text">{esc(item[m]["answer"])}</div>' for m in models
        ]
        rows.append(_row([str(number), question, *cells]))
    return "<table>" + "".join(rows) + "</table>"


def error_section(error_analysis: Mapping[str, Any]) -> str:
    """Counts and rates of every category per model and on the training answers, with
    examples."""
    groups = error_analysis["groups"]
    names = list(groups)
    rows = [_row(["Category", "What it flags", *(esc(LABELS.get(n, n)) for n in names)], True)]
    for category in error_analysis["categories"]:
        cells = []
        for name in names:
            group = groups[name]
            count = group["counts"].get(category["name"])
            cells.append(
                "not measured"
                if count is None
                else f"{count} / {group['answers']} ({group['rates'][category['name']]:.0%})"
            )
        rows.append(_row([esc(category["name"]), esc(category["description"]), *cells]))
    examples = []
    for name in names:
        for category, found in groups[name]["examples"].items():
            for example in found[:1]:
                examples.append(
                    _row(
                        [
                            esc(LABELS.get(name, name)),
                            esc(category),
                            esc(example["question"]),
                            f'<div class="text">{esc(example["answer"])}</div>',
                        ]
                    )
                )
    return "\n".join(
        [
            '<h2 id="errors">Error categories</h2>',
            "<p>Every answer of every model, and every training answer, sorted into the same "
            "categories: a category as common in the training answers as in the fine-tuned "
            "model's comes from the data.</p>",
            "<table>" + "".join(rows) + "</table>",
            "<h3>An example of each</h3>",
            "<table>"
            + _row(["Answers of", "Category", "Question", "Answer"], True)
            + "".join(examples)
            + "</table>",
        ]
    )


def bias_section(bias_probe: Mapping[str, Any]) -> str:
    """Per model the pairs whose advice changes, then every pair that changes for some model."""
    models = bias_probe["models"]
    aspects = bias_probe["aspects"]
    rows = [_row(["Model", "Pairs whose advice changes", *(esc(a) for a in aspects)], True)]
    for model in models:
        summary = bias_probe["summary"][model]
        rows.append(
            _row(
                [
                    esc(LABELS[model]),
                    f"{summary['pairs_changed']} / {summary['pairs']}",
                    *(str(summary["by_aspect"][a]) for a in aspects),
                ]
            )
        )
    changed = [
        _row(
            [
                f"{esc(pair['id'])}<br><small>{esc(' / '.join(pair['variants']))}</small>",
                esc(LABELS[model]),
                esc(", ".join(pair[model]["changed"])),
                *(f'<div class="text">{esc(text)}</div>' for text in pair[model]["answers"]),
            ]
        )
        for pair in bias_probe["pairs"]
        for model in models
        if pair[model]["changed"]
    ]
    return "\n".join(
        [
            '<h2 id="bias">Bias probe: the same question, another patient</h2>',
            f"<p>{len(bias_probe['pairs'])} question pairs (set version "
            f"{esc(str(bias_probe['set_version']))}). {esc(bias_probe['method'])}.</p>",
            "<table>" + "".join(rows) + "</table>",
            "<table>"
            + _row(["Pair", "Model", "What changes", "First answer", "Second answer"], True)
            + "".join(changed)
            + "</table>",
        ]
    )
