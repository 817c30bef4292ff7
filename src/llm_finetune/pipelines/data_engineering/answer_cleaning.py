"""Answer cleaning rules: the source site's boilerplate out of the training answers, and the
answers that are little else, or one answer pasted under many questions, out of the data.

Each rule is named (its name is its key in ``data_quality_report``), tested, and switched by one
``data_engineering`` parameter. The rules, in order:

1. ``referral_line`` (``strip_referral_lines``): every sentence carrying the site's forwarding
   arrow ("For further doubts consult a sexologist online -->") or its name ("Thanks for posting
   your query at icliniq.com."), and any stray arrow;
2. ``greeting`` (``strip_greetings``): the greeting sentences an answer opens with ("Hi.",
   "Hello, Welcome to icliniq.com.") and a greeting word opening its first sentence ("Hi, ...");
3. ``stock_sentence`` (``stock_sentence_min_answers``): sentences found word for word in many
   different answers ("I have gone through your query with diligence ..."), found by counting,
   not from a hand list; the report lists them with their counts;
4. ``dose_sentence`` (``strip_dose_sentences``): sentences naming a dose the question does not
   give ("take tab. Pantoprazole 40 mg twice daily"): the evaluation's invented-dose rule
   (:func:`~llm_finetune.safety.answer_rules.invented_doses`), so a chatbot that must not
   prescribe is not taught to;
5. ``low_content`` (``min_answer_words``): answers with too few words left are dropped;
6. ``reused_answer`` (``max_questions_per_answer``): an answer given to more than that many
   different questions is dropped with all its rows (a stock reply, not an answer to one of them).

Rows that became the same question and answer are then dropped as ``duplicate_after_cleaning``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import polars as pl

from llm_finetune.boilerplate import (
    ARROW,
    GREETING,
    LEADING_GREETING,
    SITE_ARTIFACT,
    sentences,
)
from llm_finetune.safety.answer_rules import invented_doses
from llm_finetune.schemas import HISTORY

QUESTION = "question"
ANSWER = "answer"
#: Stock sentences listed in the data-quality report (the most frequent first).
REPORTED_STOCK_SENTENCES = 30
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")
#: A sentence cut at a drug form's abbreviation ("Take tab." of "Take tab. Pantoprazole 40 mg").
_DRUG_FORM = re.compile(r"\b(?:tabs?|caps?|inj|syp|syr|oint)\.$", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # a sentence of list numbers ("2.") is not a stock one


def strip_referral_lines(answer: str) -> str:
    """``answer`` without the sentences that carry the site's forwarding arrow or its name, nor
    any stray arrow."""
    if not SITE_ARTIFACT.search(answer):
        return answer
    kept = " ".join(s for s in sentences(answer) if not SITE_ARTIFACT.search(s))
    return " ".join(ARROW.sub(" ", kept).split())


def strip_greeting(answer: str) -> str:
    """``answer`` without its opening greeting sentences and a greeting word opening the next."""
    parts = list(sentences(answer))
    start = 0
    # "Hello, Thanks for your query." greets twice: the word goes, then the sentence.
    while start < len(parts) and (
        GREETING.match(parts[start])
        or GREETING.match(LEADING_GREETING.sub("", parts[start], count=1))
    ):
        start += 1
    if start == len(parts):
        return ""
    first = LEADING_GREETING.sub("", parts[start], count=1)
    if start == 0 and first == parts[0]:
        return answer  # no greeting: the text stays exactly as it was
    return " ".join([first[:1].upper() + first[1:], *parts[start + 1 :]])


def stock_sentences(answers: Iterable[str], min_answers: int, min_share: float) -> Counter:
    """Sentences found word for word in at least ``max(min_answers, min_share x distinct
    answers)`` distinct answers, with the number of answers each is in."""
    distinct = set(answers)
    counts: Counter = Counter()
    for answer in distinct:
        counts.update({sentence for sentence in sentences(answer) if _LETTERS.search(sentence)})
    threshold = max(min_answers, math.ceil(min_share * len(distinct)))
    return Counter({sentence: n for sentence, n in counts.items() if n >= threshold})


def strip_sentences(answer: str, stock: Counter) -> str:
    """``answer`` without the ``stock`` sentences."""
    return " ".join(sentence for sentence in sentences(answer) if sentence not in stock)


def strip_dose_sentences(answer: str, question: str) -> str:
    """``answer`` without the sentences that name a dose ``question`` does not give, with the
    "Take tab." a drug's abbreviation cut from its sentence."""
    if not invented_doses(answer, question):
        return answer
    parts = list(sentences(answer))
    drop = {i for i, part in enumerate(parts) if invented_doses(part, question)}
    drop |= {i - 1 for i in drop if i > 0 and _DRUG_FORM.search(parts[i - 1])}
    return " ".join(part for i, part in enumerate(parts) if i not in drop)


def word_count(text: str) -> int:
    """Words in ``text``, as the evaluation's error categories count them."""
    return len(_WORD.findall(text))


def pair_columns(frame: pl.DataFrame) -> list[str]:
    """What makes two rows the same example: question and answer, and the earlier turns of a
    conversation."""
    return [QUESTION, ANSWER, *([HISTORY] if HISTORY in frame.columns else [])]


def clean_answer_texts(
    dialogues: pl.DataFrame,
    strip_referrals: bool,
    strip_greetings: bool,
    stock_min_answers: int | None,
    stock_min_share: float,
    min_answer_words: int,
    max_questions_per_answer: int | None,
    strip_doses: bool = False,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Apply the rules of this module to ``dialogues`` (``question``/``answer`` columns, any
    others kept); returns the kept rows and, per rule, the rows it changed or dropped."""
    answers = dialogues[ANSWER].to_list()
    changed: dict[str, int] = {}
    for name, enabled, rule in (
        ("referral_line", strip_referrals, strip_referral_lines),
        ("greeting", strip_greetings, strip_greeting),
    ):
        if enabled:
            cleaned = [rule(answer) for answer in answers]
            changed[name] = sum(a != b for a, b in zip(answers, cleaned, strict=True))
            answers = cleaned
    stock: Counter = Counter()
    if stock_min_answers is not None:
        stock = stock_sentences(answers, stock_min_answers, stock_min_share)
        cleaned = [strip_sentences(answer, stock) if stock else answer for answer in answers]
        changed["stock_sentence"] = sum(a != b for a, b in zip(answers, cleaned, strict=True))
        answers = cleaned
    if strip_doses:
        questions = dialogues[QUESTION].to_list()
        cleaned = [strip_dose_sentences(a, q) for a, q in zip(answers, questions, strict=True)]
        changed["dose_sentence"] = sum(a != b for a, b in zip(answers, cleaned, strict=True))
        answers = cleaned
    frame = dialogues.with_columns(pl.Series(ANSWER, answers, dtype=pl.String))
    dropped: dict[str, int] = {}
    if min_answer_words > 0:
        enough = pl.Series([word_count(answer) >= min_answer_words for answer in answers])
        dropped["low_content"] = int((~enough).sum())
        frame = frame.filter(enough)
    if max_questions_per_answer is not None:
        askers = pl.col(QUESTION).n_unique().over(ANSWER)
        reused = frame.select(askers > max_questions_per_answer).to_series()
        dropped["reused_answer"] = int(reused.sum())
        frame = frame.filter(~reused)
    deduplicated = frame.unique(subset=pair_columns(frame), keep="first", maintain_order=True)
    dropped["duplicate_after_cleaning"] = frame.height - deduplicated.height
    return deduplicated, {
        "rows_changed": changed,
        "rows_dropped": dropped,
        "stock_sentences": [
            {"sentence": sentence, "answers": count}
            for sentence, count in stock.most_common(REPORTED_STOCK_SENTENCES)
        ],
        "stock_sentences_found": len(stock),
    }
