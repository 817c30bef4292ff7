"""One answer-generation function for every model: evaluation (base and fine-tuned) and the chat.

Fixes the walkthrough's inference bugs:

- ``max_new_tokens`` bounds the answer; the walkthrough's ``max_length=100`` counted the prompt
  too, so long questions got a truncated answer or none at all;
- the prompt is removed by tokens (the ids after the padded prompt), not by ``str.replace`` on the
  decoded text, which fails whenever decoding does not round-trip the prompt exactly;
- prompts are batched with LEFT padding (right padding would make the model continue after pads),
  and the caller's tokenizer is left untouched;
- generation stops at EOS and reports whether it did, so runaway answers can be measured.

``torch`` is imported inside functions so that importing this module stays cheap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneratedAnswer:
    """One generated answer.

    Attributes:
        text: The decoded answer, prompt excluded, special tokens skipped, surrounding whitespace
            stripped.
        ended_with_eos: True when the model emitted EOS within ``max_new_tokens``.
        num_new_tokens: Tokens the model generated for this answer, the EOS included.
    """

    text: str
    ended_with_eos: bool
    num_new_tokens: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (``text``, ``ended_with_eos``, ``num_new_tokens``)."""
        return asdict(self)


def eos_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """The ids that end an answer: the tokenizer's EOS, then any in the model's generation config.

    The tokenizer's EOS comes first: it is what fine-tuning appends after every answer.
    """
    ids: list[int] = []
    candidates: list[Any] = [tokenizer.eos_token_id]
    generation_config = getattr(model, "generation_config", None)
    config_eos = getattr(generation_config, "eos_token_id", None)
    candidates.extend(config_eos if isinstance(config_eos, list | tuple) else [config_eos])
    for token_id in candidates:
        if token_id is not None and int(token_id) not in ids:
            ids.append(int(token_id))
    if not ids:
        raise ValueError("the tokenizer has no eos_token_id: generation could never stop at EOS")
    return ids


def generate_answers(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 128,
    batch_size: int = 8,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    top_k: int = 0,
    repetition_penalty: float = 1.0,
    no_repeat_ngram_size: int = 0,
    seed: int = 0,
) -> list[GeneratedAnswer]:
    """Generate one answer per prompt, in the order of ``prompts``.

    Greedy by default. Prompts are sorted by token length, batched with left padding, and the
    answers put back in the input order. The model is put in eval mode for the call (its previous
    mode is restored) and run under ``torch.inference_mode()`` with the KV cache on.

    Args:
        model: A causal LM (``transformers`` ``PreTrainedModel``).
        tokenizer: Its tokenizer; must define an EOS and a pad token (they may be the same).
        prompts: Fully rendered prompts (e.g. ``"### Question:\\n...\\n### Answer:\\n"``).
        max_new_tokens: Most tokens generated per answer, independent of the prompt length.
        batch_size: Prompts per ``generate`` call.
        do_sample: Sample instead of greedy decoding.
        temperature: Sampling temperature (used only when ``do_sample``).
        top_p: Nucleus sampling mass (used only when ``do_sample``; 1.0 disables it).
        top_k: Top-k sampling (used only when ``do_sample``; 0 disables it).
        repetition_penalty: >1.0 penalises tokens already present (1.0 disables it).
        no_repeat_ngram_size: Forbid repeating any n-gram of this size (0 disables it).
        seed: Seed for sampling; the global torch RNG state is restored afterwards.

    Returns:
        One :class:`GeneratedAnswer` per prompt.
    """
    import torch

    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    prompts = list(prompts)
    if not prompts:
        return []

    stop_ids = eos_token_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        raise ValueError("the tokenizer needs a pad token to batch prompts (e.g. set it to EOS)")
    settings: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "do_sample": do_sample,
        "repetition_penalty": repetition_penalty,
        "no_repeat_ngram_size": no_repeat_ngram_size,
        "eos_token_id": stop_ids,
        "pad_token_id": pad_id,
        # Some checkpoints are saved with use_cache=False (e.g. after gradient checkpointing).
        "use_cache": True,
    }
    if do_sample:
        settings.update(temperature=temperature, top_p=top_p, top_k=top_k)

    lengths = [len(ids) for ids in tokenizer(prompts)["input_ids"]]
    order = sorted(range(len(prompts)), key=lambda i: lengths[i], reverse=True)
    device = next(model.parameters()).device
    answers: list[GeneratedAnswer | None] = [None] * len(prompts)
    was_training = model.training
    model.eval()
    started = time.perf_counter()
    try:
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            for start in range(0, len(order), batch_size):
                indices = order[start : start + batch_size]
                # padding_side per call: the caller's tokenizer keeps its own setting.
                batch = tokenizer(
                    [prompts[i] for i in indices],
                    return_tensors="pt",
                    padding=True,
                    padding_side="left",
                ).to(device)
                output = model.generate(**batch, **settings)
                new_ids = output[:, batch["input_ids"].shape[1] :].tolist()
                for index, ids in zip(indices, new_ids, strict=True):
                    answers[index] = _finish(tokenizer, ids, stop_ids)
                done = min(start + batch_size, len(order))
                logger.info(
                    "Generated %d/%d answers (%.0f s)",
                    done,
                    len(order),
                    time.perf_counter() - started,
                )
    finally:
        model.train(was_training)
    return [answer for answer in answers if answer is not None]


def _finish(tokenizer: Any, new_ids: list[int], stop_ids: list[int]) -> GeneratedAnswer:
    """Cut the generated ids at the first stop token and decode them."""
    stops = set(stop_ids)
    end = next((i for i, token in enumerate(new_ids) if token in stops), None)
    kept = new_ids if end is None else new_ids[:end]
    text = tokenizer.decode(kept, skip_special_tokens=True).strip()
    return GeneratedAnswer(
        text=text,
        ended_with_eos=end is not None,
        num_new_tokens=len(new_ids) if end is None else end + 1,
    )
