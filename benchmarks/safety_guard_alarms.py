"""How often the chat's red-flag guard fires on real questions: its false-alarm budget.

A guard that shows "call your emergency number" on every other question teaches people to skip
it, so the target is at most 5% of real questions flagged. The real rows' questions are forum
titles ("Q. Why do I get fever during rainy season?"), mostly everyday complaints; the script
lists every flagged one with the rule that fired, so a reader can judge which are true red flags
(those should fire) and which are false alarms.

    .venv/bin/python benchmarks/safety_guard_alarms.py [ROWS.jsonl]

Default rows: ../shared/data/ai_medical_chatbot_raw_dev.jsonl (``common.REAL_ROWS``). Exit code
1 when the rate is over the target.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from common import REAL_ROWS

from llm_finetune.safety.guard import RULESET_VERSION, red_flags

TARGET_RATE = 0.05
QUESTION_PREFIX = "Q. "


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=Path, default=REAL_ROWS, help="rows (JSONL)")
    args = parser.parse_args(argv)
    if not args.rows.is_file():
        print(f"error: no rows at {args.rows}", file=sys.stderr)
        return 2
    questions = distinct_questions(args.rows)
    flagged = flagged_questions(questions)
    print(report(questions, flagged))
    return 0 if len(flagged) <= TARGET_RATE * len(questions) else 1


if __name__ == "__main__":
    sys.exit(main())
