"""Pure functions of the evaluation pipeline: base vs fine-tuned model, same prompts, same settings.

Each model goes through one node (:func:`evaluate_model`) that computes its answer-token
perplexity and generates its answers once; every report (table, metrics, HTML, probe) reuses those
answers. ``torch`` is imported inside functions.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import polars as pl

from llm_finetune.generation import generate_answers
from llm_finetune.pipelines.evaluation import metrics
from llm_finetune.prompting import render_prompt

IGNORE_INDEX = -100  # label value that carries no loss
MODELS = ("base", "fine_tuned")
MODEL_LABELS = {"base": "Base model", "fine_tuned": "Fine-tuned model"}
SCORE_NAMES = ("exact_match", "token_f1", "bleu", "rouge_l")
# Keys of ``params:evaluation.generation`` passed to ``generate_answers``.
GENERATION_KEYS = (
    "max_new_tokens",
    "batch_size",
    "do_sample",
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "no_repeat_ngram_size",
    "seed",
)
DISCLAIMER = (
    "Answers come from a small demo language model fine-tuned on a few dialogues. They are "
    "not medical advice."
)


def select_eval_questions(test_qa: pl.DataFrame, num_questions: int | None) -> pl.DataFrame:
    """The first ``num_questions`` test rows (all rows when None) that both models will answer."""
    if num_questions is not None and num_questions < 1:
        raise ValueError(f"num_questions must be a positive integer or null, got {num_questions}")
    if test_qa.height == 0:
        raise ValueError("test_qa is empty: there is nothing to evaluate")
    columns = ["question", "answer", "plain_question", "line_number"]
    missing = [c for c in columns if c not in test_qa.columns]
    if missing:
        raise ValueError(f"test_qa lacks the columns {missing}; it has {test_qa.columns}")
    selected = test_qa.select(columns)
    return selected if num_questions is None else selected.head(num_questions)


def render_off_topic_prompts(questions: Sequence[str], prompt_template: str) -> list[str]:
    """The off-topic probe questions in the model's prompt form."""
    return [render_prompt(prompt_template, question) for question in questions]


def answer_perplexity(
    model: Any, tokenizer: Any, tokenized: pl.DataFrame, batch_size: int = 4
) -> dict[str, float]:
    """Teacher-forced perplexity over the labelled (answer + EOS) tokens of every row.

    ``exp(sum of NLL over labelled tokens / number of labelled tokens)``: a token-weighted mean,
    not a mean of per-row perplexities. Rows are right-padded per batch; pads get attention 0 and
    label -100. Labels are unshifted (HF convention): the logits at position ``t`` predict
    ``labels[t + 1]``.

    Returns:
        ``perplexity``, ``mean_nll`` and ``tokens`` (labelled tokens scored). Perplexity is NaN
        when no token is labelled.
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
    total_nll, total_tokens = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
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
                    logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                    targets.reshape(-1),
                    ignore_index=IGNORE_INDEX,
                    reduction="sum",
                )
                total_nll += float(nll)
                total_tokens += int((targets != IGNORE_INDEX).sum())
    finally:
        model.train(was_training)
    mean_nll = total_nll / total_tokens if total_tokens else math.nan
    return {
        "perplexity": math.exp(mean_nll) if total_tokens else math.nan,
        "mean_nll": mean_nll,
        "tokens": total_tokens,
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


def generation_settings(evaluation_params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``generate_answers`` keyword arguments from ``params:evaluation``."""
    generation = dict(evaluation_params.get("generation") or {})
    unknown = sorted(set(generation) - set(GENERATION_KEYS))
    if unknown:
        raise ValueError(
            f"unknown evaluation.generation settings {unknown}; known: {GENERATION_KEYS}"
        )
    return generation


def evaluate_model(
    model_and_tokenizer: Sequence[Any],
    eval_questions: pl.DataFrame,
    off_topic_prompts: Sequence[str],
    tokenized_test: pl.DataFrame,
    evaluation_params: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, float]]:
    """Run one model once: perplexity on ``tokenized_test`` and answers to every prompt.

    The test questions and the off-topic probes are generated in one call with the same settings.

    Returns:
        ``answers`` (one dict per eval question: ``text``, ``ended_with_eos``,
        ``num_new_tokens``), ``off_topic_answers`` (same, per probe) and the perplexity dict.
    """
    model, tokenizer = model_and_tokenizer[0], model_and_tokenizer[1]
    perplexity = answer_perplexity(
        model, tokenizer, tokenized_test, evaluation_params.get("perplexity_batch_size", 4)
    )
    questions = eval_questions["question"].to_list()
    generated = generate_answers(
        model,
        tokenizer,
        questions + list(off_topic_prompts),
        **generation_settings(evaluation_params),
    )
    answers = [answer.to_dict() for answer in generated]
    return answers[: len(questions)], answers[len(questions) :], perplexity


def build_comparison_table(
    eval_questions: pl.DataFrame,
    base_answers: list[dict[str, Any]],
    fine_tuned_answers: list[dict[str, Any]],
) -> pd.DataFrame:
    """One row per question: question, reference, both answers, per-row scores and EOS flags."""
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
        table[f"{model}_repetition_loop"] = [
            metrics.has_repetition_loop(a["text"]) for a in answers
        ]
    return pd.DataFrame(table)


def _check_lengths(references: list[str], *answer_lists: list[dict[str, Any]]) -> None:
    """Fail unless every model answered every question."""
    lengths = [len(answers) for answers in answer_lists]
    if any(length != len(references) for length in lengths):
        raise ValueError(
            f"expected {len(references)} answers per model (one per question), got {lengths}"
        )


def build_evaluation_metrics(
    eval_questions: pl.DataFrame,
    base_answers: list[dict[str, Any]],
    fine_tuned_answers: list[dict[str, Any]],
    base_perplexity: dict[str, float],
    fine_tuned_perplexity: dict[str, float],
    evaluation_params: Mapping[str, Any],
) -> dict[str, Any]:
    """Summary metrics per model plus perplexity, the question count and the settings used."""
    references = eval_questions["answer"].to_list()
    _check_lengths(references, base_answers, fine_tuned_answers)
    summary: dict[str, Any] = {}
    for model, answers, perplexity in (
        ("base", base_answers, base_perplexity),
        ("fine_tuned", fine_tuned_answers, fine_tuned_perplexity),
    ):
        scores = metrics.summarize_generation_metrics(
            [a["text"] for a in answers], references, [bool(a["ended_with_eos"]) for a in answers]
        )
        summary[model] = {
            **scores,
            "mean_new_tokens": sum(a["num_new_tokens"] for a in answers) / len(answers),
            "perplexity": _json_float(perplexity["perplexity"]),
            "perplexity_tokens": int(perplexity["tokens"]),
        }
    summary["num_questions"] = len(references)
    summary["generation"] = generation_settings(evaluation_params)
    return summary


def _json_float(value: float) -> float | None:
    """NaN/inf are not valid JSON: store them as null."""
    return float(value) if math.isfinite(value) else None


def build_off_topic_probe(
    off_topic_questions: Sequence[str],
    base_off_topic_answers: list[dict[str, Any]],
    fine_tuned_off_topic_answers: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Both models' answers to questions far from the training data: does the persona leak?"""
    rows = []
    for question, base, tuned in zip(
        off_topic_questions, base_off_topic_answers, fine_tuned_off_topic_answers, strict=True
    ):
        rows.append(
            {
                "question": question,
                "base_answer": base["text"],
                "base_ended_with_eos": bool(base["ended_with_eos"]),
                "fine_tuned_answer": tuned["text"],
                "fine_tuned_ended_with_eos": bool(tuned["ended_with_eos"]),
            }
        )
    return rows


_HTML_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
.note { background: #fff4ce; border: 1px solid #e0c060; padding: .6rem 1rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .4rem .6rem; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
td.text { white-space: pre-wrap; max-width: 28rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""
_SUMMARY_ROWS = (
    "perplexity",
    "token_f1",
    "rouge_l",
    "bleu",
    "exact_match",
    "eos_rate",
    "repetition_loop_rate",
    "distinct_2",
    "mean_new_tokens",
)


def render_comparison_html(
    comparison_table: pd.DataFrame, evaluation_metrics: Mapping[str, Any]
) -> str:
    """A self-contained HTML page: disclaimer, metrics summary, then every question side by side."""
    esc = html.escape
    summary = ["<tr><th>Metric</th><th>Base</th><th>Fine-tuned</th></tr>"]
    for name in _SUMMARY_ROWS:
        cells = "".join(
            f'<td class="num">{esc(_fmt(evaluation_metrics[m].get(name)))}</td>' for m in MODELS
        )
        summary.append(f"<tr><th>{esc(name)}</th>{cells}</tr>")
    rows = [
        "<tr><th>#</th><th>Question</th><th>Reference</th><th>Base answer</th>"
        "<th>Fine-tuned answer</th><th>Token F1 (base / fine-tuned)</th></tr>"
    ]
    for number, row in enumerate(comparison_table.itertuples(index=False), start=1):
        f1 = f"{_fmt(row.base_token_f1)} / {_fmt(row.fine_tuned_token_f1)}"
        texts = "".join(
            f'<td class="text">{esc(str(text))}</td>'
            for text in (row.question, row.reference_answer, row.base_answer, row.fine_tuned_answer)
        )
        rows.append(f'<tr><td class="num">{number}</td>{texts}<td class="num">{esc(f1)}</td></tr>')
    settings = esc(
        ", ".join(f"{k}={v}" for k, v in (evaluation_metrics.get("generation") or {}).items())
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            "<title>Base vs fine-tuned answers</title>",
            f"<style>{_HTML_CSS}</style></head><body>",
            "<h1>Base vs fine-tuned answers</h1>",
            f'<p class="note">{esc(DISCLAIMER)}</p>',
            f"<p>{evaluation_metrics.get('num_questions', len(comparison_table))} test questions; "
            f"generation settings: {settings or 'defaults'}.</p>",
            "<h2>Summary</h2>",
            "<table>" + "".join(summary) + "</table>",
            "<h2>Answers</h2>",
            "<table>" + "".join(rows) + "</table>",
            "</body></html>",
            "",
        ]
    )


def _fmt(value: Any) -> str:
    """Numbers for the HTML page: 3 decimals, ``n/a`` for missing or non-finite values."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if math.isfinite(value) else "n/a"
    return str(value)
