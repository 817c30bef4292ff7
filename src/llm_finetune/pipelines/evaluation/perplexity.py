"""Teacher-forced answer-token perplexity of a model on tokenized examples."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import polars as pl

from llm_finetune.modeling.examples import IGNORE_INDEX
from llm_finetune.progress import progress_bar

logger = logging.getLogger(__name__)


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
                nll, counts = _batch_nll(model, batch)
                row_nll += nll
                row_tokens += counts
                bar.update(len(counts))
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


def _batch_nll(model: Any, batch: dict[str, Any]) -> tuple[list[float], list[int]]:
    """Summed NLL and number of labelled tokens of each row of one right-padded batch."""
    import torch.nn.functional as F

    device = next(model.parameters()).device
    batch = {name: tensor.to(device) for name, tensor in batch.items()}
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    targets = batch["labels"][:, 1:]
    nll = F.cross_entropy(
        logits[:, :-1].float().transpose(1, 2),
        targets,
        ignore_index=IGNORE_INDEX,
        reduction="none",
    )
    return nll.sum(dim=1).tolist(), (targets != IGNORE_INDEX).sum(dim=1).tolist()


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
