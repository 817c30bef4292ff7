"""How often the chat's red-flag guard fires on real questions: its false-alarm budget.

A guard that shows "call your emergency number" on every other question teaches people to skip
it, so the target is at most 5% of real questions flagged. The real rows' questions are forum
titles ("Q. Why do I get fever during rainy season?"), mostly everyday complaints; the script
lists every flagged one with the rule that fired, so a reader can judge which are true red flags
(those should fire) and which are false alarms.

With ``--red-flags PROBE.yml`` it also reports the other side, the guard's hit rate on a set of
red-flag questions (target: a notice on at least 90% of them): hits out of the total, the rate,
every missed question with its id, and every question that got a weaker notice than its
``expected_action`` (an urgent notice where an emergency was expected). The probe file is YAML
with a top-level ``questions:`` list of ``{id, topic, expected_action, question}``.

    .venv/bin/python benchmarks/safety_guard_alarms.py [ROWS.jsonl] [--red-flags PROBE.yml]

Default rows: ../shared/data/ai_medical_chatbot_raw_dev.jsonl (``common.REAL_ROWS``). Exit code
1 when the alarm rate is over its target or the probe's hit rate under its target, 2 when a file
is missing or malformed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml
from common import REAL_ROWS

from llm_finetune.safety.guard import (
    CRISIS_NOTICE,
    EMERGENCY_NOTICE,
    RULESET_VERSION,
    URGENT_NOTICE,
    notice_for,
    red_flags,
)

TARGET_RATE = 0.05
PROBE_TARGET_RATE = 0.90
QUESTION_PREFIX = "Q. "
#: How pressing each notice is, and each ``expected_action`` of a probe question.
NOTICE_LEVEL = {CRISIS_NOTICE: 2, EMERGENCY_NOTICE: 2, URGENT_NOTICE: 1}
ACTION_LEVEL = {"crisis": 2, "emergency": 2, "urgent": 1}


def distinct_questions(rows_path: Path) -> list[str]:
    """The rows' distinct ``Description`` texts, ``Q. `` prefix removed, in first-seen order."""
    questions: dict[str, None] = {}
    with rows_path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            text = " ".join(str(json.loads(line).get("Description") or "").split())
            text = text.removeprefix(QUESTION_PREFIX).strip()
            if text:
                questions.setdefault(text, None)
    return list(questions)


def flagged_questions(questions: list[str]) -> list[tuple[str, list[str]]]:
    """(question, names of the rules it matches) for every question the guard flags."""
    flagged = []
    for question in questions:
        names = [rule.name for rule in red_flags(question)]
        if names:
            flagged.append((question, names))
    return flagged


def report(questions: list[str], flagged: list[tuple[str, list[str]]]) -> str:
    """The figure, the rules that fired, and every flagged question."""
    rate = len(flagged) / len(questions) if questions else 0.0
    verdict = "within" if rate <= TARGET_RATE else "OVER"
    lines = [
        f"Red-flag guard, rule set version {RULESET_VERSION}",
        f"Flagged {len(flagged)} of {len(questions)} distinct real questions: {rate:.1%} "
        f"({verdict} the {TARGET_RATE:.0%} target)",
    ]
    counts = Counter(name for _, names in flagged for name in names)
    if counts:
        lines.append("Rules that fired: " + ", ".join(f"{n} x{c}" for n, c in counts.most_common()))
        lines.append("Flagged questions (judge each: a true red flag, or a false alarm?):")
        lines += [f"  [{', '.join(names)}] {question}" for question, names in flagged]
    return "\n".join(lines)


def load_probe(path: Path) -> list[dict]:
    """The probe's questions: ``questions:`` items, each with at least an ``id`` and a
    ``question``; ValueError when the file does not have that shape."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path}: no top-level 'questions:' list")
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not str(item.get("question") or "").strip():
            raise ValueError(f"{path}: question {number} has no 'question' text")
        if "id" not in item:
            raise ValueError(f"{path}: question {number} has no 'id'")
    return items


def probe_hits(items: list[dict]) -> tuple[list[dict], list[dict], list[tuple[dict, str]]]:
    """(hit, missed, weaker): the questions that get a notice, those that get none, and the hits
    whose notice is less pressing than their ``expected_action`` (with the action shown)."""
    hit, missed, weaker = [], [], []
    for item in items:
        notice = notice_for(str(item["question"]))
        if notice is None:
            missed.append(item)
            continue
        hit.append(item)
        expected = ACTION_LEVEL.get(str(item.get("expected_action") or "").strip().lower(), 0)
        if NOTICE_LEVEL[notice] < expected:
            weaker.append((item, "urgent"))
    return hit, missed, weaker


def probe_report(path: Path, items: list[dict]) -> tuple[str, float]:
    """The probe's hit rate and every missed (or under-triaged) question; and the rate."""
    hit, missed, weaker = probe_hits(items)
    rate = len(hit) / len(items)
    verdict = "meets" if rate >= PROBE_TARGET_RATE else "UNDER"
    lines = [
        f"Red-flag probe {path.name}, rule set version {RULESET_VERSION}",
        f"Hit {len(hit)} of {len(items)} red-flag questions: {rate:.1%} ({verdict} the "
        f"{PROBE_TARGET_RATE:.0%} target)",
    ]
    if missed:
        lines.append(f"Missed ({len(missed)}):")
        lines += [f"  - {item['id']}: {' '.join(str(item['question']).split())}" for item in missed]
    if weaker:
        lines.append(f"Weaker notice than expected ({len(weaker)}):")
        lines += [
            f"  ~ {item['id']}: {shown} notice, expected {item.get('expected_action')}: "
            f"{' '.join(str(item['question']).split())}"
            for item, shown in weaker
        ]
    return "\n".join(lines), rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=Path, default=REAL_ROWS, help="rows (JSONL)")
    parser.add_argument(
        "--red-flags", type=Path, metavar="PROBE.yml", help="also report the hit rate on a probe"
    )
    args = parser.parse_args(argv)
    for path in (args.rows, args.red_flags):
        if path is not None and not path.is_file():
            print(f"error: no file at {path}", file=sys.stderr)
            return 2
    questions = distinct_questions(args.rows)
    flagged = flagged_questions(questions)
    print(report(questions, flagged))
    failed = len(flagged) > TARGET_RATE * len(questions)
    if args.red_flags is not None:
        try:
            items = load_probe(args.red_flags)
        except (ValueError, yaml.YAMLError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        text, rate = probe_report(args.red_flags, items)
        print()
        print(text)
        failed = failed or rate < PROBE_TARGET_RATE
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
