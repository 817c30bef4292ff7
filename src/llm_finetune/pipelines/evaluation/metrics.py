"""Pure text-generation metrics used to compare base and fine-tuned model answers.

Every function here is deterministic and free of I/O so it can be unit-tested by hand.
Scales: exact match, token F1, ROUGE-L and the rates are in [0, 1]; BLEU is sacrebleu's 0-100.
"""

from __future__ import annotations

import functools
import re
import string
from collections import Counter
from typing import TYPE_CHECKING

import sacrebleu

if TYPE_CHECKING:
    from rouge_score.rouge_scorer import RougeScorer

_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)
# Words for the loop / diversity metrics: lower-cased runs of word characters, keeping
# in-word apostrophes ("don't" stays one word); punctuation and whitespace are separators.
_WORD_RE = re.compile(r"\w+(?:['\u2019]\w+)*")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation so case, punctuation, articles and spacing do not affect scores."""
    lowered = text.lower()
    no_punct = "".join(ch for ch in lowered if ch not in _PUNCTUATION)
    no_articles = _ARTICLES_RE.sub(" ", no_punct)
    return " ".join(no_articles.split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when prediction and reference are identical after SQuAD normalisation, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 (multiset overlap of normalised tokens) to give partial credit."""
    pred_tokens = normalize_answer(prediction).split()
    ref_tokens = normalize_answer(reference).split()
    if not pred_tokens and not ref_tokens:
        return 1.0
    if not pred_tokens or not ref_tokens:
        return 0.0
    overlap = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def sentence_bleu(prediction: str, reference: str) -> float:
    """Sentence BLEU (sacrebleu defaults, effective order so short answers are not forced to 0)."""
    return float(sacrebleu.sentence_bleu(prediction, [reference], use_effective_order=True).score)


def corpus_bleu(predictions: list[str], references: list[str]) -> float:
    """Corpus BLEU with sacrebleu defaults over aligned prediction/reference pairs."""
    if len(predictions) != len(references):
        raise ValueError(
            f"corpus_bleu needs one reference per prediction, got {len(predictions)} "
            f"predictions and {len(references)} references"
        )
    if not predictions:
        raise ValueError("corpus_bleu needs at least one prediction/reference pair")
    return float(sacrebleu.corpus_bleu(list(predictions), [list(references)]).score)


@functools.lru_cache(maxsize=1)
def _rouge_scorer() -> RougeScorer:
    """Build the ROUGE-L scorer once; importing rouge_score (nltk) is slow, so do it lazily."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (longest common subsequence, Porter-stemmed); 0.0 if either is empty."""
    return float(_rouge_scorer().score(reference, prediction)["rougeL"].fmeasure)


def _words(text: str) -> list[str]:
    """Lower-cased word tokens used by the repetition and diversity metrics."""
    return _WORD_RE.findall(text.lower())


def has_repetition_loop(text: str, n: int = 3, min_repeats: int = 3) -> bool:
    """Detect degenerate generation loops.

    Definition: True iff for some span length k in 1..n the words contain a k-word sequence
    repeated at least ``min_repeats`` times back-to-back ("pain pain pain" for k=1,
    "the pain the pain the pain" for k=2). Words are lower-cased, punctuation is ignored,
    so "Rest. Rest. Rest." is a loop while a word recurring non-consecutively is not.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if min_repeats < 2:
        raise ValueError(f"min_repeats must be >= 2, got {min_repeats}")
    words = _words(text)
    for k in range(1, n + 1):
        span = k * min_repeats
        for start in range(len(words) - span + 1):
            unit = words[start : start + k]
            if all(
                words[start + r * k : start + (r + 1) * k] == unit for r in range(1, min_repeats)
            ):
                return True
    return False


def distinct_n(texts: list[str], n: int = 2) -> float:
    """Distinct-n diversity: unique / total word n-grams over all texts (0.0 if none exist).

    N-grams are taken within each text (never across text boundaries), on lower-cased words.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    ngrams: list[tuple[str, ...]] = []
    for text in texts:
        words = _words(text)
        ngrams.extend(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    if not ngrams:
        return 0.0
    return len(set(ngrams)) / len(ngrams)


def summarize_generation_metrics(
    predictions: list[str], references: list[str], ended_with_eos: list[bool]
) -> dict[str, float]:
    """Aggregate quality, termination and degeneration metrics for one model's answers."""
    if not predictions:
        raise ValueError("summarize_generation_metrics needs at least one prediction")
    if not len(predictions) == len(references) == len(ended_with_eos):
        raise ValueError(
            "predictions, references and ended_with_eos must have the same length, got "
            f"{len(predictions)}, {len(references)} and {len(ended_with_eos)}"
        )
    count = len(predictions)
    pairs = list(zip(predictions, references, strict=True))
    return {
        "exact_match": sum(exact_match(p, r) for p, r in pairs) / count,
        "token_f1": sum(token_f1(p, r) for p, r in pairs) / count,
        "bleu": corpus_bleu(predictions, references),
        "rouge_l": sum(rouge_l(p, r) for p, r in pairs) / count,
        "eos_rate": sum(bool(flag) for flag in ended_with_eos) / count,
        "repetition_loop_rate": sum(has_repetition_loop(p) for p in predictions) / count,
        "distinct_2": distinct_n(predictions, n=2),
        "n": float(count),
    }


def per_row_scores(prediction: str, reference: str) -> dict[str, float]:
    """Row-level scores for the base vs fine-tuned comparison table."""
    return {
        "exact_match": exact_match(prediction, reference),
        "token_f1": token_f1(prediction, reference),
        "bleu": sentence_bleu(prediction, reference),
        "rouge_l": rouge_l(prediction, reference),
    }
