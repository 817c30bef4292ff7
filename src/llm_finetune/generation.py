"""Every answer's generation: batched for evaluation, streamed for the chats, one set of settings.

:class:`GenerationSettings` (``params:generation``) decides how answers are decoded, and
:func:`generate_kwargs` alone turns them into ``model.generate`` arguments (EOS ids, pad id, KV
cache on), so evaluation (:func:`generate_answers`, base and fine-tuned models) and the terminal and
web chats (:func:`stream_answer`) decode alike. Fixes the walkthrough's inference bugs:

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
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from llm_finetune.config.generation import NOT_DECODING, GenerationSettings
from llm_finetune.progress import progress_bar

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


def carried_settings(model: Any) -> GenerationSettings:
    """The decoding settings ``model`` carries: the fields its generation config sets explicitly
    (a fine-tuned model of this project sets them all), the project's defaults for the rest."""
    config = getattr(model, "generation_config", None)
    explicit = config.to_diff_dict() if config is not None else {}
    decoding = {item.name for item in fields(GenerationSettings)} - NOT_DECODING
    return GenerationSettings(
        **{name: explicit[name] for name in decoding if explicit.get(name) is not None}
    )


def attach_generation_config(model: Any, tokenizer: Any, settings: GenerationSettings) -> None:
    """Write the decoding settings into ``model.generation_config``, so that ``save_pretrained``
    stores them in ``generation_config.json`` and plain ``transformers`` users get them."""
    from transformers import GenerationConfig

    config = GenerationConfig(
        **settings.decoding(),
        eos_token_id=eos_token_ids(model, tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=getattr(model.generation_config, "bos_token_id", None),
    )
    config.validate()
    model.generation_config = config


def generate_kwargs(model: Any, tokenizer: Any, settings: GenerationSettings) -> dict[str, Any]:
    """The ``model.generate`` arguments of every answer, batched or streamed: the decoding fields
    of ``settings``, the EOS ids (:func:`eos_token_ids`), the pad id and the KV cache on."""
    return {
        **settings.decoding(),
        "eos_token_id": eos_token_ids(model, tokenizer),
        "pad_token_id": tokenizer.pad_token_id,
        # Some checkpoints are saved with use_cache=False (e.g. after gradient checkpointing).
        "use_cache": True,
    }


def generate_answers(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    settings: GenerationSettings | None = None,
    progress: bool = True,
    **overrides: Any,
) -> list[GeneratedAnswer]:
    """Generate one answer per prompt, in the order of ``prompts``.

    Decoded with ``settings`` (the project's defaults when None) and any keyword ``overrides`` of
    its fields. Prompts are sorted by token length, batched with left padding
    (:func:`prompt_batches`: ``batch_size``, ``max_batch_tokens``), and the answers put back in
    the input order. The model is put in eval mode for the call (its previous mode is
    restored) and run under ``torch.inference_mode()`` with the KV cache on.

    Args:
        model: A causal LM (``transformers`` ``PreTrainedModel``).
        tokenizer: Its tokenizer; must define an EOS and a pad token (they may be the same).
        prompts: Fully rendered prompts (e.g. ``"### Question:\\n...\\n### Answer:\\n"``).
        settings: Decoding settings, batch size and seed.
        progress: Show a progress bar (answers done, answers/s); off for interactive callers.

    Returns:
        One :class:`GeneratedAnswer` per prompt.
    """
    import torch

    settings = replace(settings or GenerationSettings(), **overrides)
    prompts = list(prompts)
    if not prompts:
        return []

    decoding = generate_kwargs(model, tokenizer, settings)
    stop_ids = decoding["eos_token_id"]
    if decoding["pad_token_id"] is None:
        raise ValueError("the tokenizer needs a pad token to batch prompts (e.g. set it to EOS)")
    lengths = [len(ids) for ids in tokenizer(prompts)["input_ids"]]
    batches = prompt_batches(lengths, settings)
    answers: list[GeneratedAnswer | None] = [None] * len(prompts)
    was_training = model.training
    model.eval()
    started = time.perf_counter()
    bar = progress_bar(len(prompts), "generating answers", "answer", enabled=progress)
    try:
        with bar, torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(settings.seed)
            for indices in batches:
                new_ids = _generate_batch(model, tokenizer, [prompts[i] for i in indices], decoding)
                for index, ids in zip(indices, new_ids, strict=True):
                    answers[index] = _finish(tokenizer, ids, stop_ids)
                bar.update(len(indices))
    finally:
        model.train(was_training)
    logger.info("Generated %d answers in %.0f s", len(prompts), time.perf_counter() - started)
    return [answer for answer in answers if answer is not None]


def _generate_batch(
    model: Any, tokenizer: Any, prompts: list[str], decoding: dict[str, Any]
) -> list[list[int]]:
    """The new token ids of one ``generate`` call over ``prompts``, left-padded into a batch."""
    # padding_side per call: the caller's tokenizer keeps its own setting.
    batch = tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left")
    output = model.generate(**batch.to(next(model.parameters()).device), **decoding)
    return output[:, batch["input_ids"].shape[1] :].tolist()


def prompt_batches(lengths: Sequence[int], settings: GenerationSettings) -> list[list[int]]:
    """Prompt indices per ``generate`` call: longest first (little left padding), at most
    ``batch_size`` each and, with ``max_batch_tokens``, at most that many tokens of KV cache:
    rows x (longest prompt + ``max_new_tokens``). A prompt over the budget on its own goes alone."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    for index in order:
        batch = batches[-1] if batches else []
        rows, longest = len(batch) + 1, lengths[batch[0]] if batch else lengths[index]
        fits = settings.max_batch_tokens is None or (
            rows * (longest + settings.max_new_tokens) <= settings.max_batch_tokens
        )
        if batch and rows <= settings.batch_size and fits:
            batch.append(index)
        else:
            batches.append([index])
    return batches


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


def stream_answer(
    model: Any,
    tokenizer: Any,
    input_ids: Sequence[int],
    settings: GenerationSettings,
    *,
    stop_event: threading.Event | None = None,
) -> Iterator[str]:
    """Yield the answer to one tokenized prompt as it is generated, decoded like evaluation's
    answers (:func:`generate_kwargs`) and stopping at EOS or ``max_new_tokens``.

    ``generate`` runs in a thread and feeds a ``TextIteratorStreamer``. Closing the iterator early
    (or setting ``stop_event``) ends generation at the next token; an error raised by ``generate``
    is raised here. Unlike :func:`generate_answers`, sampling is not seeded: asked twice, the chat
    may answer differently.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    stop = stop_event or threading.Event()

    class _StopWhenAsked(StoppingCriteria):
        def __call__(self, ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((ids.shape[0],), stop.is_set(), dtype=torch.bool, device=ids.device)

    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    decoding = generate_kwargs(model, tokenizer, settings)
    failures: list[BaseException] = []

    def generate() -> None:
        try:
            with torch.inference_mode():
                model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_StopWhenAsked()]),
                    **decoding,
                )
        except BaseException as error:  # reported by the consuming thread
            failures.append(error)
            streamer.end()  # unblock the consumer

    worker = threading.Thread(target=generate, name="chat-generate", daemon=True)
    worker.start()
    try:
        for piece in streamer:
            if piece:
                yield piece
    finally:
        stop.set()
        worker.join()
    if failures:
        raise failures[0]
