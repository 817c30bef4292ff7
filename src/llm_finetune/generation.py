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
- generation stops at EOS and reports whether it did, so runaway answers can be measured;
- a row leaves its batch as soon as it ends (:func:`decode`): ``model.generate`` computes every
  row until the longest answer ends, which on a CPU made short answers cost as much as the
  longest one (benchmarks/RESULTS.md, "Generation drops finished rows").

``torch`` is imported inside functions so that importing this module stays cheap.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
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
    """The ``model.generate`` arguments that decode like :func:`decode`, for callers that use
    ``transformers`` directly: the decoding fields of ``settings``, the EOS ids
    (:func:`eos_token_ids`), the pad id and the KV cache on."""
    return {
        **settings.decoding(),
        "eos_token_id": eos_token_ids(model, tokenizer),
        "pad_token_id": tokenizer.pad_token_id,
        # Some checkpoints are saved with use_cache=False (e.g. after gradient checkpointing).
        "use_cache": True,
    }


def logits_processors(settings: GenerationSettings, padding_lengths: Any = None) -> Any:
    """The ``transformers`` logits processors ``model.generate`` would build from ``settings``,
    in its order: repetition penalty, n-gram ban, then (sampling only) temperature, top-k, top-p.

    ``padding_lengths`` (a tensor, one per row): the left padding the repetition penalty skips,
    as ``generate`` does; with the pad token also the EOS (SmolLM2), penalising the padding would
    make the padded rows of a batch less likely to end."""
    from transformers import (
        LogitsProcessorList,
        NoRepeatNGramLogitsProcessor,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    processors = LogitsProcessorList()
    if settings.repetition_penalty != 1.0:
        processors.append(
            RepetitionPenaltyLogitsProcessor(
                float(settings.repetition_penalty), prompt_ignore_length=padding_lengths
            )
        )
    if settings.no_repeat_ngram_size > 0:
        processors.append(NoRepeatNGramLogitsProcessor(settings.no_repeat_ngram_size))
    if settings.do_sample:
        if settings.temperature != 1.0:
            processors.append(TemperatureLogitsWarper(float(settings.temperature)))
        if settings.top_k > 0:
            processors.append(TopKLogitsWarper(settings.top_k))
        if settings.top_p < 1.0:
            processors.append(TopPLogitsWarper(float(settings.top_p)))
    return processors


def decode(
    model: Any,
    input_ids: Any,
    attention_mask: Any,
    settings: GenerationSettings,
    stop_ids: Sequence[int],
    *,
    on_tokens: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[list[int]]:
    """The new token ids of every row of a left-padded batch, each up to and including its stop
    token (or ``max_new_tokens`` of them): every answer's decoding loop, batched or streamed.

    Greedy or sampled like ``model.generate`` with the same settings (:func:`logits_processors`,
    position ids from the attention mask, KV cache on), with one difference: a row that emits a
    stop token leaves the batch and its KV cache, so the next steps compute only the rows still
    going. ``on_tokens`` gets each step's tokens (one row: a streamer's ``put``); ``should_stop``
    is asked after each step and ends decoding when it says so. Call it under
    ``torch.inference_mode()``, the model in eval mode.
    """
    import torch

    padding = (attention_mask != 0).int().argmax(dim=1)
    processors = logits_processors(settings, padding)
    stops = torch.tensor(list(stop_ids), device=input_ids.device)
    rows = torch.arange(input_ids.shape[0], device=input_ids.device)  # batch row -> input row
    new_ids: list[list[int]] = [[] for _ in range(input_ids.shape[0])]
    sequences = input_ids  # prompt and answer so far: what the repetition penalty looks at
    positions = (attention_mask.long().cumsum(-1) - 1).masked_fill(attention_mask == 0, 0)
    # Only the last position's logits are used: skip the rest of the prompt's (as generate does).
    last_only = {"logits_to_keep": 1} if _accepts(model, "logits_to_keep") else {}
    step_ids, cache = input_ids, None
    for _ in range(settings.max_new_tokens):
        output = model(
            input_ids=step_ids,
            attention_mask=attention_mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            **last_only,
        )
        cache = output.cache
        scores = processors(sequences, output.logits[:, -1, :].float())
        if settings.do_sample:
            tokens = torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1).squeeze(1)
        else:
            tokens = scores.argmax(dim=-1)
        for row, token in zip(rows.tolist(), tokens.tolist(), strict=True):
            new_ids[row].append(token)
        if on_tokens is not None:
            on_tokens(tokens)
        going = torch.isin(tokens, stops, invert=True)
        if not bool(going.any()) or (should_stop is not None and should_stop()):
            break
        step_ids = tokens[:, None]
        sequences = torch.cat([sequences, step_ids], dim=1)
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones(len(rows), 1)], 1)
        positions = positions[:, -1:] + 1
        if not bool(going.all()):
            keep = going.nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            rows, step_ids, sequences = rows[keep], step_ids[keep], sequences[keep]
            attention_mask, positions = attention_mask[keep], positions[keep]
            padding = padding[keep]
            processors = logits_processors(settings, padding)
    return new_ids


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

    stop_ids = eos_token_ids(model, tokenizer)
    if tokenizer.pad_token_id is None:
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
                batch = [prompts[i] for i in indices]
                new_ids = _generate_batch(model, tokenizer, batch, settings, stop_ids)
                for index, ids in zip(indices, new_ids, strict=True):
                    answers[index] = _finish(tokenizer, ids, stop_ids)
                bar.update(len(indices))
    finally:
        model.train(was_training)
    logger.info("Generated %d answers in %.0f s", len(prompts), time.perf_counter() - started)
    return [answer for answer in answers if answer is not None]


def _accepts(model: Any, argument: str) -> bool:
    """Whether ``model.forward`` takes ``argument``."""
    return argument in inspect.signature(model.forward).parameters


def _generate_batch(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    settings: GenerationSettings,
    stop_ids: list[int],
) -> list[list[int]]:
    """The new token ids of one :func:`decode` call over ``prompts``, left-padded into a batch."""
    # padding_side per call: the caller's tokenizer keeps its own setting.
    batch = tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left")
    batch = batch.to(next(model.parameters()).device)
    return decode(model, batch["input_ids"], batch["attention_mask"], settings, stop_ids)


def prompt_batches(lengths: Sequence[int], settings: GenerationSettings) -> list[list[int]]:
    """Prompt indices per decoding batch: longest first (little left padding), at most
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
    """Yield the answer to one tokenized prompt as it is generated: :func:`decode`, the loop of
    evaluation's answers, stopping at EOS or ``max_new_tokens``.

    :func:`decode` runs in a thread and feeds a ``TextIteratorStreamer``. Closing the iterator
    early (or setting ``stop_event``) ends generation at the next token; an error raised while
    decoding is raised here. Unlike :func:`generate_answers`, sampling is not seeded: asked twice,
    the chat may answer differently.
    """
    import torch
    from transformers import TextIteratorStreamer

    stop = stop_event or threading.Event()
    device = next(model.parameters()).device
    ids = torch.tensor([list(input_ids)], dtype=torch.long, device=device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    stop_ids = eos_token_ids(model, tokenizer)
    failures: list[BaseException] = []

    def generate() -> None:
        try:
            with torch.inference_mode():
                streamer.put(ids)  # the prompt, which skip_prompt leaves out
                decode(
                    model,
                    ids,
                    torch.ones_like(ids),
                    settings,
                    stop_ids,
                    on_tokens=streamer.put,
                    should_stop=stop.is_set,
                )
        except BaseException as error:  # reported by the consuming thread
            failures.append(error)
        finally:
            streamer.end()  # flushes the last words, or unblocks the consumer after an error

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
