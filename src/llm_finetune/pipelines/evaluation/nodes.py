"""Pure functions of the evaluation pipeline: base vs fine-tuned model, same prompts, same settings.

Each model goes through one node (:func:`evaluate_model`) that computes its answer-token
perplexity and generates its answers once; every report (table, metrics, HTML, probe) reuses those
answers. ``torch`` is imported inside functions.
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import polars as pl

from llm_finetune.generation import GenerationSettings, generate_answers
from llm_finetune.pipelines.evaluation import metrics
from llm_finetune.pipelines.evaluation.uncertainty import (
    BOOTSTRAP_RESAMPLES,
    CONFIDENCE,
    paired_bootstrap,
    question_groups,
    wins_ties_losses,
)
from llm_finetune.pipelines.training.tokenization import IGNORE_INDEX, tokenize_qa
from llm_finetune.progress import progress_bar
from llm_finetune.prompting import render_prompt

logger = logging.getLogger(__name__)

MODELS = ("base", "fine_tuned")
MODEL_LABELS = {"base": "Base model", "fine_tuned": "Fine-tuned model"}
SCORE_NAMES = ("exact_match", "token_f1", "bleu", "rouge_l")
DISCLAIMER = (
    "Answers come from a small demo language model fine-tuned on a few dialogues. They are "
    "not medical advice."
)


def tokenize_test(
    test_qa: pl.DataFrame, base_model: Any, tokenization: Mapping[str, Any]
) -> pl.DataFrame:
    """The test split tokenized exactly as training tokenizes (answer + EOS labelled), for the
    answer-token perplexity of both models. Only evaluation reads the test split."""
    tokenizer = base_model[1]  # (model, tokenizer)
    frame, stats = tokenize_qa(test_qa, tokenizer, tokenization)
    logger.info("Tokenized the test split: %s", stats)
    return frame


def check_num_questions(num_questions: Any) -> int | None:
    """``evaluation.num_questions`` if it is a positive integer or null, else ``ValueError``."""
    if num_questions is not None and (
        isinstance(num_questions, bool) or not isinstance(num_questions, int) or num_questions < 1
    ):
        raise ValueError(
            f"evaluation.num_questions must be a positive integer or null, got {num_questions!r}"
        )
    return num_questions


def select_eval_questions(test_qa: pl.DataFrame, evaluation: Mapping[str, Any]) -> pl.DataFrame:
    """The first ``evaluation.num_questions`` test rows (all rows when null) that both models
    will answer."""
    num_questions = check_num_questions(evaluation.get("num_questions"))
    if test_qa.height == 0:
        raise ValueError("test_qa is empty: there is nothing to evaluate")
    columns = ["question", "answer", "plain_question", "line_number"]
    missing = [c for c in columns if c not in test_qa.columns]
    if missing:
        raise ValueError(f"test_qa lacks the columns {missing}; it has {test_qa.columns}")
    selected = test_qa.select(columns)
    return selected if num_questions is None else selected.head(num_questions)


def render_off_topic_prompts(questions: Sequence[str], prompt_template: str) -> list[str]:
    """Every off-topic question twice: first all as raw text (as the walkthrough asks "What do you
    think of Mars?"), then all inside the prompt template (as the chat asks)."""
    return [*questions, *(render_prompt(prompt_template, question) for question in questions)]


def answer_perplexity(
    model: Any, tokenizer: Any, tokenized: pl.DataFrame, batch_size: int = 4
) -> dict[str, float]:
    """Teacher-forced perplexity over the labelled (answer + EOS) tokens of every row.

    ``exp(sum of NLL over labelled tokens / number of labelled tokens)``: a token-weighted mean,
    not a mean of per-row perplexities. Rows are right-padded per batch; pads get attention 0 and
    label -100. Labels are unshifted (HF convention): the logits at position ``t`` predict
    ``labels[t + 1]``.

    Returns:
        ``perplexity``, ``mean_nll`` and ``tokens`` (labelled tokens scored), and per row
        ``row_nll`` and ``row_tokens``. Perplexity is NaN when no token is labelled.
    """
    import torch
    import torch.nn.functional as F

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    input_ids = tokenized["input_ids"].to_list()
    labels = tokenized["labels"].to_list()
    masks = (
        tokenized["attention_mask"].to_list()
        if "attention_mask" in tokenized.columns
        else [[1] * len(ids) for ids in input_ids]
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device
    row_nll: list[float] = []
    row_tokens: list[int] = []
    was_training = model.training
    model.eval()
    started = time.perf_counter()
    bar = progress_bar(len(input_ids), "answer perplexity", "answer")
    try:
        with bar, torch.inference_mode():
            for start in range(0, len(input_ids), batch_size):
                stop = start + batch_size
                batch = _right_pad(
                    input_ids[start:stop], labels[start:stop], masks[start:stop], pad_id
                )
                batch = {name: tensor.to(device) for name, tensor in batch.items()}
                logits = model(
                    input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
                ).logits
                targets = batch["labels"][:, 1:]
                nll = F.cross_entropy(
                    logits[:, :-1].float().transpose(1, 2),
                    targets,
                    ignore_index=IGNORE_INDEX,
                    reduction="none",
                )
                row_nll += nll.sum(dim=1).tolist()
                row_tokens += (targets != IGNORE_INDEX).sum(dim=1).tolist()
                bar.update(len(targets))
    finally:
        model.train(was_training)
    logger.info(
        "Answer perplexity of %d answers in %.0f s", len(input_ids), time.perf_counter() - started
    )
    total_tokens = sum(row_tokens)
    mean_nll = sum(row_nll) / total_tokens if total_tokens else math.nan
    return {
        "perplexity": math.exp(mean_nll) if total_tokens else math.nan,
        "mean_nll": mean_nll,
        "tokens": total_tokens,
        # Per row of ``tokenized``: summed NLL and labelled tokens (paired comparisons).
        "row_nll": row_nll,
        "row_tokens": [int(count) for count in row_tokens],
    }


def _right_pad(
    input_ids: list[list[int]], labels: list[list[int]], masks: list[list[int]], pad_id: int
) -> dict[str, Any]:
    """Right-pad one batch to tensors: pads get attention 0 and label -100."""
    import torch

    longest = max(len(ids) for ids in input_ids)
    padded: dict[str, list[list[int]]] = {"input_ids": [], "labels": [], "attention_mask": []}
    for ids, row_labels, mask in zip(input_ids, labels, masks, strict=True):
        if not len(ids) == len(row_labels) == len(mask):
            raise ValueError("input_ids, labels and attention_mask must have equal lengths per row")
        pad = longest - len(ids)
        padded["input_ids"].append(list(ids) + [pad_id] * pad)
        # A label on a masked-out position would score a token the model never attended to.
        padded["labels"].append(
            [lab if m else IGNORE_INDEX for lab, m in zip(row_labels, mask, strict=True)]
            + [IGNORE_INDEX] * pad
        )
        padded["attention_mask"].append(list(mask) + [0] * pad)
    return {name: torch.tensor(rows, dtype=torch.long) for name, rows in padded.items()}


def evaluate_model(
    model_and_tokenizer: Sequence[Any],
    eval_questions: pl.DataFrame,
    off_topic_prompts: Sequence[str],
    tokenized_test: pl.DataFrame,
    evaluation_params: Mapping[str, Any],
    generation: Mapping[str, Any] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Run one model once: perplexity on ``tokenized_test`` and answers to every prompt.

    The test questions and the off-topic probes are generated in one call with the project's
    generation settings (``params:generation``): the same for every model.

    Returns:
        ``answers`` (one dict per eval question: ``text``, ``ended_with_eos``,
        ``num_new_tokens``), ``off_topic_answers`` (same, per probe) and the perplexity dict.
    """
    settings = GenerationSettings.from_params(generation)
    model, tokenizer = model_and_tokenizer[0], model_and_tokenizer[1]
    perplexity = answer_perplexity(
        model, tokenizer, tokenized_test, evaluation_params.get("perplexity_batch_size", 4)
    )
    questions = eval_questions["question"].to_list()
    generated = generate_answers(model, tokenizer, questions + list(off_topic_prompts), settings)
    answers = [answer.to_dict() for answer in generated]
    return answers[: len(questions)], answers[len(questions) :], perplexity


def build_comparison_table(
    eval_questions: pl.DataFrame,
    base_answers: list[dict[str, Any]],
    fine_tuned_answers: list[dict[str, Any]],
) -> pd.DataFrame:
    """One row per question: question, reference, both answers, per-row scores, EOS and loop
    flags."""
    references = eval_questions["answer"].to_list()
    _check_lengths(references, base_answers, fine_tuned_answers)
    table: dict[str, list[Any]] = {
        "line_number": eval_questions["line_number"].to_list(),
        "question": eval_questions["plain_question"].to_list(),
        "reference_answer": references,
    }
    for model, answers in zip(MODELS, (base_answers, fine_tuned_answers), strict=True):
        table[f"{model}_answer"] = [answer["text"] for answer in answers]
    for model, answers in zip(MODELS, (base_answers, fine_tuned_answers), strict=True):
        scores = [
            metrics.per_row_scores(a["text"], ref)
            for a, ref in zip(answers, references, strict=True)
        ]
        for name in SCORE_NAMES:
            table[f"{model}_{name}"] = [row[name] for row in scores]
        table[f"{model}_ended_with_eos"] = [bool(a["ended_with_eos"]) for a in answers]
        table[f"{model}_new_tokens"] = [int(a["num_new_tokens"]) for a in answers]
        table[f"{model}_loop"] = [metrics.has_repetition_loop(a["text"]) for a in answers]
    return pd.DataFrame(table)


def _check_lengths(references: list[str], *answer_lists: list[dict[str, Any]]) -> None:
    """Fail unless every model answered every question."""
    lengths = [len(answers) for answers in answer_lists]
    if any(length != len(references) for length in lengths):
        raise ValueError(
            f"expected {len(references)} answers per model (one per question), got {lengths}"
        )


#: Paired per-question metrics: comparison-table column suffix -> higher is better.
PAIRED_METRICS = {
    "token_f1": True,
    "rouge_l": True,
    "bleu": True,
    "exact_match": True,
    "ended_with_eos": True,
    "loop": False,
    "new_tokens": None,  # neither: reported, not judged
}


def build_evaluation_metrics(
    comparison_table: pd.DataFrame,
    tokenized_test: pl.DataFrame,
    base_perplexity: dict[str, Any],
    fine_tuned_perplexity: dict[str, Any],
    generation: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Summary metrics per model, and fine-tuned minus base for every metric with a 95% paired
    bootstrap interval over questions and per-question wins / ties / losses."""
    texts = ["question", "reference_answer", *(f"{model}_answer" for model in MODELS)]
    # An empty answer read back from CSV is NaN: score it as the empty text it was.
    table = comparison_table.assign(
        **{column: comparison_table[column].fillna("").astype(str) for column in texts}
    )
    references = table["reference_answer"].tolist()
    summary: dict[str, Any] = {}
    for model, perplexity in (("base", base_perplexity), ("fine_tuned", fine_tuned_perplexity)):
        scores = metrics.summarize_generation_metrics(
            table[f"{model}_answer"].tolist(),
            references,
            table[f"{model}_ended_with_eos"].tolist(),
        )
        summary[model] = {
            **scores,
            "mean_new_tokens": float(table[f"{model}_new_tokens"].mean()),
            "perplexity": _json_float(perplexity["perplexity"]),
            "perplexity_tokens": int(perplexity["tokens"]),
        }
    summary["num_questions"] = int(table["question"].nunique())
    summary["num_answers"] = len(table)
    summary["perplexity_rows"] = len(base_perplexity.get("row_nll") or [])
    summary["differences"] = _paired_differences(
        table, tokenized_test, base_perplexity, fine_tuned_perplexity
    )
    summary["uncertainty"] = {
        "method": (
            f"fine-tuned minus base; {CONFIDENCE:.0%} percentile interval of a paired bootstrap "
            f"over questions ({BOOTSTRAP_RESAMPLES} resamples, rows of one question move "
            "together); wins / ties / losses count questions where the fine-tuned model is "
            "better / equal / worse"
        ),
        "caveat": (
            f"{summary['num_questions']} questions: an interval that contains 0 means this test "
            "set cannot tell the models apart on that metric"
        ),
    }
    summary["generation"] = GenerationSettings.from_params(generation).to_dict()
    return summary


def _paired_differences(
    table: pd.DataFrame,
    tokenized_test: pl.DataFrame,
    base_perplexity: Mapping[str, Any],
    fine_tuned_perplexity: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    groups = question_groups(table["question"].astype(str).tolist())
    differences: dict[str, dict[str, Any]] = {}
    for name, higher_is_better in PAIRED_METRICS.items():
        base = table[f"base_{name}"].astype(float).tolist()
        tuned = table[f"fine_tuned_{name}"].astype(float).tolist()
        row = paired_bootstrap(base, tuned, groups)
        if higher_is_better is not None:
            row.update(wins_ties_losses(base, tuned, higher_is_better))
        differences[_metric_key(name)] = {**row, "higher_is_better": higher_is_better}
    # Corpus BLEU: the statistic itself is recomputed on every resample.
    pairs = list(zip(table["reference_answer"], table["base_answer"], strict=True))
    tuned_pairs = list(zip(table["reference_answer"], table["fine_tuned_answer"], strict=True))
    differences["corpus_bleu"] = {
        **paired_bootstrap(pairs, tuned_pairs, groups, _corpus_bleu, resamples=200),
        "higher_is_better": True,
    }
    differences["perplexity"] = _perplexity_difference(
        tokenized_test, base_perplexity, fine_tuned_perplexity
    )
    return differences


def _metric_key(column_suffix: str) -> str:
    return {"ended_with_eos": "eos_rate", "loop": "loop_rate", "bleu": "sentence_bleu"}.get(
        column_suffix, column_suffix
    )


def _corpus_bleu(pairs: Sequence[tuple[str, str]]) -> float:
    references, answers = zip(*pairs, strict=True)
    return metrics.corpus_bleu(list(answers), list(references))


def _perplexity_difference(
    tokenized_test: pl.DataFrame, base: Mapping[str, Any], fine_tuned: Mapping[str, Any]
) -> dict[str, Any]:
    """Token-weighted answer perplexity per resample; wins are questions whose own answer
    perplexity went down."""
    records = {
        model: [
            (nll, tokens)
            for nll, tokens in zip(result["row_nll"], result["row_tokens"], strict=True)
        ]
        for model, result in (("base", base), ("fine_tuned", fine_tuned))
    }
    scored = [i for i, (_, tokens) in enumerate(records["base"]) if tokens]
    if "plain_question" in tokenized_test.columns:
        questions = tokenized_test["plain_question"].to_list()
    else:
        questions = [str(i) for i in range(tokenized_test.height)]
    groups = question_groups([questions[i] for i in scored])
    base_rows = [records["base"][i] for i in scored]
    tuned_rows = [records["fine_tuned"][i] for i in scored]
    row = paired_bootstrap(base_rows, tuned_rows, groups, _pooled_perplexity)
    row.update(
        wins_ties_losses(
            [_pooled_perplexity([r]) for r in base_rows],
            [_pooled_perplexity([r]) for r in tuned_rows],
            higher_is_better=False,
        )
    )
    return {**row, "higher_is_better": False}


def _pooled_perplexity(records: Sequence[tuple[float, int]]) -> float:
    tokens = sum(count for _, count in records)
    return math.exp(sum(nll for nll, _ in records) / tokens) if tokens else math.nan


def _json_float(value: float) -> float | None:
    """NaN/inf are not valid JSON: store them as null."""
    return float(value) if math.isfinite(value) else None


def build_off_topic_probe(
    off_topic_questions: Sequence[str],
    base_off_topic_answers: list[dict[str, Any]],
    fine_tuned_off_topic_answers: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Both models' answers to questions far from the training data, asked as raw text and inside
    the prompt template, side by side: does the doctor persona leak, and does the template matter?

    The answers follow ``render_off_topic_prompts``: all raw prompts, then all templated ones.
    """
    questions = list(off_topic_questions)
    for model, answers in zip(
        MODELS, (base_off_topic_answers, fine_tuned_off_topic_answers), strict=True
    ):
        if len(answers) != 2 * len(questions):
            raise ValueError(
                f"{model}_off_topic_answers has {len(answers)} answers; expected "
                f"{2 * len(questions)} (each of the {len(questions)} off-topic questions raw and "
                "templated)"
            )
    rows = []
    for index, question in enumerate(questions):
        row: dict[str, Any] = {"question": question}
        for form, offset in (("raw", 0), ("templated", len(questions))):
            for model, answers in zip(
                MODELS, (base_off_topic_answers, fine_tuned_off_topic_answers), strict=True
            ):
                answer = answers[offset + index]
                row[f"{model}_{form}_answer"] = answer["text"]
                row[f"{model}_{form}_ended_with_eos"] = bool(answer["ended_with_eos"])
                # An empty answer with 1 new token: the model stopped at once (not a bug).
                row[f"{model}_{form}_new_tokens"] = int(answer["num_new_tokens"])
        rows.append(row)
    return rows


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
#: Summary rows of the HTML page: evaluation_metrics[model] key -> differences key.
_SUMMARY_ROWS = {
    "perplexity": "perplexity",
    "token_f1": "token_f1",
    "rouge_l": "rouge_l",
    "bleu": "corpus_bleu",
    "exact_match": "exact_match",
    "eos_rate": "eos_rate",
    "repetition_loop_rate": "loop_rate",
    "distinct_2": None,
    "mean_new_tokens": "new_tokens",
}


def render_comparison_html(
    comparison_table: pd.DataFrame, evaluation_metrics: Mapping[str, Any]
) -> str:
    """A self-contained HTML page: disclaimer, metrics with their paired 95% intervals, then every
    question side by side (answers that loop are highlighted)."""
    esc = html.escape
    differences = evaluation_metrics.get("differences") or {}
    summary = [
        "<tr><th>Metric</th><th>Base</th><th>Fine-tuned</th><th>Fine-tuned &minus; base</th>"
        "<th>95% interval</th><th>Questions better / same / worse</th></tr>"
    ]
    for name, difference_key in _SUMMARY_ROWS.items():
        cells = "".join(
            f'<td class="num">{esc(_fmt(evaluation_metrics[m].get(name)))}</td>' for m in MODELS
        )
        cells += _difference_cells(differences.get(difference_key) if difference_key else None)
        summary.append(f"<tr><th>{esc(name)}</th>{cells}</tr>")
    rows = [
        "<tr><th>#</th><th>Question</th><th>Reference</th><th>Base answer</th>"
        "<th>Fine-tuned answer</th><th>Token F1 (base / fine-tuned)</th></tr>"
    ]
    for number, row in enumerate(comparison_table.itertuples(index=False), start=1):
        f1 = f"{_fmt(row.base_token_f1)} / {_fmt(row.fine_tuned_token_f1)}"
        texts = "".join(
            f'<td class="text">{esc(str(text))}</td>'
            for text in (row.question, row.reference_answer)
        )
        for model in MODELS:
            texts += _answer_cell(
                str(getattr(row, f"{model}_answer")),
                bool(getattr(row, f"{model}_loop")),
                bool(getattr(row, f"{model}_ended_with_eos")),
            )
        rows.append(f'<tr><td class="num">{number}</td>{texts}<td class="num">{esc(f1)}</td></tr>')
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
            "<table>" + "".join(summary) + "</table>",
            f"<p>{esc(uncertainty.get('method', ''))}. {esc(uncertainty.get('caveat', ''))}.</p>",
            "<h2>Answers</h2>",
            '<p><span class="flag">LOOP</span>: the answer repeats itself (a sentence twice, a '
            "5-word phrase three times, or a short span three times in a row); "
            '<span class="flag">CUT</span>: it did not end before the token limit.</p>',
            "<table>" + "".join(rows) + "</table>",
            "</body></html>",
            "",
        ]
    )


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
