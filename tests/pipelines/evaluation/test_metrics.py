"""Hand-computed checks for the evaluation metrics (expected values derived in comments)."""

from __future__ import annotations

import pytest

from llm_finetune.pipelines.evaluation import metrics, registry
from llm_finetune.pipelines.evaluation.answers import Answer
from llm_finetune.pipelines.evaluation.metrics import (
    corpus_bleu,
    distinct_n,
    exact_match,
    has_repetition_loop,
    normalize_answer,
    rouge_l,
    sentence_bleu,
    token_f1,
)
from llm_finetune.pipelines.evaluation.summary import summarize_model

# ---------------------------------------------------------------- normalisation / exact match


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  The  Quick, brown fox!  ", "quick brown fox"),
        # "an" is removed as a word, but "Theory" / "Anatomy" keep their article-like prefixes.
        ("Theory of an Anatomy", "theory of anatomy"),
        ("It's 38.5 C.", "its 385 c"),
        ("", ""),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("The Cat, sat!", "cat sat", 1.0),  # case + punctuation + article differ only
        ("An apple.", "apple", 1.0),
        ("cat   sat", "a cat sat", 1.0),  # whitespace collapsed
        ("cat sat", "cat sits", 0.0),
        ("cat sat down", "cat sat", 0.0),  # extra word is not an exact match
    ],
)
def test_exact_match(prediction: str, reference: str, expected: float) -> None:
    assert exact_match(prediction, reference) == expected


# ---------------------------------------------------------------- token F1


def test_token_f1_partial_overlap() -> None:
    # "cat sat" vs "cat sat down": overlap 2, precision 2/2, recall 2/3
    # F1 = 2 * 1 * (2/3) / (1 + 2/3) = (4/3) / (5/3) = 0.8
    assert token_f1("the cat sat", "a cat sat down") == pytest.approx(0.8)


def test_token_f1_clips_repeated_tokens() -> None:
    # Counter overlap: min(3, 1) = 1 -> precision 1/3, recall 1/1
    # F1 = 2 * (1/3) * 1 / (4/3) = 0.5 (a set/unclipped overlap would give 1.0)
    assert token_f1("pain pain pain", "pain") == pytest.approx(0.5)


def test_token_f1_edge_cases() -> None:
    assert token_f1("", "The.") == 1.0  # both normalise to empty
    assert token_f1("", "cat") == 0.0
    assert token_f1("cat", "") == 0.0
    assert token_f1("dog barks", "cat sat") == 0.0
    assert token_f1("Cat sat.", "the cat sat") == 1.0


# ---------------------------------------------------------------- BLEU


def test_sentence_bleu_identical_and_disjoint() -> None:
    sentence = "The patient should rest and drink plenty of fluids."
    assert sentence_bleu(sentence, sentence) == pytest.approx(100.0)
    assert sentence_bleu("alpha beta gamma delta", "one two three four") == 0.0
    assert sentence_bleu("", "one two three four") == 0.0


def test_sentence_bleu_uses_effective_order_for_short_sentences() -> None:
    # One token: there are no 2/3/4-grams; effective order keeps only p1 = 1 -> 100.
    # Without effective order the missing orders would push the score to ~0.
    assert sentence_bleu("yes", "yes") == pytest.approx(100.0)


def test_sentence_bleu_hand_computed() -> None:
    # "a b c d" vs "a b c e": p1 = 3/4, p2 = 2/3, p3 = 1/2, p4 = 0/1 -> exp smoothing 1/(2*1)
    # BP = 1 (equal length). BLEU = 100 * (3/4 * 2/3 * 1/2 * 1/2)^(1/4) = 100 * 2^(-3/4)
    assert sentence_bleu("a b c d", "a b c e") == pytest.approx(100 * 2**-0.75)  # ~59.46


def test_corpus_bleu_hand_computed() -> None:
    # Row 1 identical (3 tokens): 1g 3/3, 2g 2/2, 3g 1/1, 4g 0/0.
    # Row 2 "pain pain pain pain" vs "chest pain": 1g 1/4 (clipped), 2g 0/3, 3g 0/2, 4g 0/1.
    # Totals: p1 = 4/7, p2 = 2/5, p3 = 1/3, p4 = 0/1 -> exp smoothing 1/2.
    # sys_len 7 >= ref_len 5 so BP = 1. BLEU = 100 * (4/7 * 2/5 * 1/3 * 1/2)^(1/4)
    expected = 100 * (4 / 105) ** 0.25  # ~44.18
    score = corpus_bleu(["the cat sat", "pain pain pain pain"], ["the cat sat", "chest pain"])
    assert score == pytest.approx(expected)


def test_corpus_bleu_identical_and_disjoint() -> None:
    refs = ["drink more water every day", "see a doctor if the fever persists"]
    assert corpus_bleu(refs, refs) == pytest.approx(100.0)
    assert corpus_bleu(["x y z", "u v w"], refs) == 0.0


def test_corpus_bleu_errors() -> None:
    with pytest.raises(ValueError, match="one reference per prediction"):
        corpus_bleu(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="at least one"):
        corpus_bleu([], [])


# ---------------------------------------------------------------- ROUGE-L


def test_rouge_l_identical_and_empty() -> None:
    sentence = "Take paracetamol and rest for two days."
    assert rouge_l(sentence, sentence) == pytest.approx(1.0)
    assert rouge_l("", sentence) == 0.0
    assert rouge_l("alpha beta", "gamma delta") == 0.0


def test_rouge_l_hand_computed_lcs() -> None:
    # prediction: patient has fever (3), reference: the patient has a high fever (6)
    # LCS = "patient has fever" = 3 -> P = 3/3, R = 3/6, F = 2 * 1 * 0.5 / 1.5 = 2/3
    assert rouge_l("patient has fever", "the patient has a high fever") == pytest.approx(2 / 3)


def test_rouge_l_uses_stemmer() -> None:
    # Porter stemming maps "coughing" -> "cough" and "nights" -> "night": full match.
    assert rouge_l("coughing at nights", "cough at night") == pytest.approx(1.0)


def test_rouge_scorer_is_built_once() -> None:
    assert metrics._rouge_scorer() is metrics._rouge_scorer()


# ---------------------------------------------------------------- repetition loops


# Loops a fine-tuned model really produced on real questions (issue 9 and the walkthrough).
REAL_LOOPS = [
    "The surgery is performed under general anesthesia. " * 8,
    "I'm glad you're taking care of your acne. " * 11,
    "Hi. I am not sure what to do. " + "I am not sure what to do. " * 14,
    "If you're snoring, you should see a doctor. " * 8,
    "Hello. If your PSA is elevated, it may indicate that you have cancer. " * 5,
    "It is a good medicine for ovarian cysts " * 5,  # the walkthrough's, no punctuation
    # Cut at the token limit in the middle of the third copy.
    "Hi. Please take rest and drink water. Please take rest and drink water. Please take re",
]

NOT_LOOPS = [
    # A long natural doctor answer.
    "Hello. I have gone through your query. Headache behind the eyes may be due to eye strain, "
    "sinusitis or migraine. Eye strain is common if you work long hours on a screen; take a "
    "break every 20 minutes. Sinusitis gives pain that is worse on bending forward, with a "
    "blocked nose. Migraine is throbbing, on one side, with nausea and sensitivity to light. "
    "Please get your eyes tested and consult an ENT specialist if the nose is blocked. I hope "
    "this helps. Take care.",
    # A numbered list whose items share their opening words.
    "Hi. You need to do the following: 1. Take the tablet on an empty stomach. 2. Take the "
    "second tablet after food. 3. Take the syrup at night. 4. Recheck the TSH after six weeks.",
    # Dosing instructions: the same schedule three times, with different drugs.
    "Hello. Tablet Medrol 4 mg 1-0-1 after food. Tablet Pan 40 1-0-1 before food. Tablet "
    "Phlogam 1-1-1 before food. Tablet Nurokind LC 1-0-1 after food. Tablet Nervijen-NP 1-0-1 "
    "after food. Review after a week.",
    "Feris drops 1 ml once a day. Zincovit drops one ml once a day. Vitanova drops 0.5 ml once "
    "a day. Calcirol sachet once a week for five weeks.",
    "The pain in my chest is a sharp pain that comes and goes, pain worse at night.",
    "Thanks. Thanks.",  # a repeated sentence of fewer than 3 words
    "pain pain",
    "",
]


@pytest.mark.parametrize("text", REAL_LOOPS)
def test_loops_a_reader_sees_are_caught(text: str) -> None:
    assert has_repetition_loop(text) is True


@pytest.mark.parametrize("text", NOT_LOOPS)
def test_natural_answers_are_not_loops(text: str) -> None:
    assert has_repetition_loop(text) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pain pain pain", True),  # one word three times in a row
        ("the pain the pain the pain", True),  # two words
        ("I am sorry I am sorry I am sorry", True),  # three words
        ("Take rest. Take rest. Take rest.", True),  # punctuation ignored
        ("Hello. Please drink water water water and rest.", True),  # loop mid-text
        ("Rest well, see your doctor. Eat well. Rest well, see your doctor.", True),  # sentence x2
        # a 5-word phrase three times, not back to back and not a sentence
        (
            "see a doctor about it now, then see a doctor about it later and see a doctor about it",
            True,
        ),
        # a 4-word phrase three times is natural ("it is better to")
        ("It is better to rest. It is better to eat. It is better to sleep.", False),
        ("ok " * 200, True),  # all one repeated token
        ("血压高怎么办 血压高怎么办 血压高怎么办", True),  # non-Latin text is read too
        ("Здравствуйте. Примите лекарство после еды.", False),
    ],
)
def test_has_repetition_loop_rules(text: str, expected: bool) -> None:
    assert has_repetition_loop(text) is expected


def test_loop_detector_rarely_fires_on_real_reference_answers(real_dev_data) -> None:
    """Real doctor answers are the negatives: the detector fires on at most 2% of them."""
    import json

    rows = [json.loads(line) for line in real_dev_data.read_text(encoding="utf-8").splitlines()]
    fired = [row["Doctor"] for row in rows if has_repetition_loop(row["Doctor"])]
    assert len(rows) == 776
    assert len(fired) <= 0.02 * len(rows), fired


# ---------------------------------------------------------------- distinct-n


def test_distinct_2_hand_computed() -> None:
    # "a b a b" -> (a,b) (b,a) (a,b); "a b" -> (a,b). Total 4, unique {(a,b), (b,a)} = 2 -> 0.5
    assert distinct_n(["a b a b", "a b"], n=2) == pytest.approx(0.5)


def test_distinct_1_is_case_insensitive() -> None:
    # unigrams: a b a b a b -> 6 total, 2 unique -> 1/3; "Pain pain" -> 1 unique / 2
    assert distinct_n(["a b a b", "A b"], n=1) == pytest.approx(2 / 6)
    assert distinct_n(["Pain pain"], n=1) == pytest.approx(0.5)


def test_distinct_n_does_not_cross_text_boundaries_and_handles_empty() -> None:
    # No text has 2 words, so no bigram exists (crossing texts would give (a,b) -> 1.0).
    assert distinct_n(["a", "b"], n=2) == 0.0
    assert distinct_n([], n=2) == 0.0
    assert distinct_n(["all different words here"], n=2) == 1.0
    with pytest.raises(ValueError, match="n must be"):
        distinct_n(["a b"], n=0)


# ---------------------------------------------------------------- aggregates


def answer(text: str, reference: str, ended_with_eos: bool = True) -> Answer:
    return Answer("Q?", reference, text, ended_with_eos, new_tokens=3)


PERPLEXITY = {"perplexity": float("nan"), "tokens": 0}


def test_model_summary_of_two_answers() -> None:
    answers = [
        answer("the cat sat", "the cat sat"),
        answer("pain pain pain pain", "chest pain", ended_with_eos=False),
    ]
    result = summarize_model(answers, PERPLEXITY)
    expected = {
        "exact_match": 0.5,  # (1 + 0) / 2
        # row 2: overlap 1, P = 1/4, R = 1/2 -> F1 = 2 * (1/8) / (3/4) = 1/3; mean (1 + 1/3) / 2
        "token_f1": 2 / 3,
        "bleu": 100 * (4 / 105) ** 0.25,  # corpus BLEU: see test_corpus_bleu_hand_computed
        # row 2: LCS 1, P = 1/4, R = 1/2 -> F = 1/3; mean (1 + 1/3) / 2
        "rouge_l": 2 / 3,
        "eos_rate": 0.5,
        "repetition_loop_rate": 0.5,  # only "pain pain pain pain"
        # bigrams: (the,cat) (cat,sat) + (pain,pain) x3 -> 3 unique / 5 total
        "distinct_2": 0.6,
        "n": 2.0,
        "mean_new_tokens": 3.0,
        "perplexity": None,  # NaN is not JSON
        "perplexity_tokens": 0,
    }
    assert list(result) == list(expected)  # the order evaluation_metrics has always had
    assert result == pytest.approx(expected)


def test_model_summary_needs_an_answer() -> None:
    with pytest.raises(ValueError, match="at least one answer"):
        summarize_model([], PERPLEXITY)


def test_per_answer_scores() -> None:
    scored = answer("The cat sat.", "the cat sat")
    scores = {m.column: m.value(scored) for m in registry.table_metrics()}
    # EM / F1 / ROUGE ignore case and punctuation -> 1.0 each.
    # BLEU (13a, case-sensitive): "The cat sat ." vs "the cat sat":
    # p1 = 2/4, p2 = 1/3, p3 = 0/2 -> 1/(2*2), p4 = 0/1 -> 1/(4*1); BP = 1 (4 > 3 tokens)
    # BLEU = 100 * (1/2 * 1/3 * 1/4 * 1/4)^(1/4) = 100 * (1/96)^(1/4)
    assert list(scores) == [
        "exact_match",
        "token_f1",
        "bleu",
        "rouge_l",
        "ended_with_eos",
        "new_tokens",
        "loop",
    ]
    assert scores["exact_match"] == 1.0
    assert scores["token_f1"] == 1.0
    assert scores["rouge_l"] == pytest.approx(1.0)
    assert scores["bleu"] == pytest.approx(100 * (1 / 96) ** 0.25)  # ~31.95
    assert (scores["ended_with_eos"], scores["new_tokens"], scores["loop"]) == (True, 3, False)
