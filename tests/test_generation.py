"""``llm_finetune.generation``: batched greedy decoding, prompt stripping, EOS, token budgets, and
streaming with the same ``generate`` arguments."""

from __future__ import annotations

import pytest
import torch

from llm_finetune import generation
from llm_finetune.generation import (
    GeneratedAnswer,
    GenerationSettings,
    _finish,
    eos_token_ids,
    generate_answers,
    generate_kwargs,
    prompt_batches,
    stream_answer,
)
from tests.conftest import TINY_CORPUS

PROMPTS = [
    "### Question:\nWhat causes a headache behind the eyes?\n### Answer:\n",
    "### Question:\nIs a fever of 39 degrees dangerous?\n### Answer:\n",
    "### Question:\nWhy does my knee hurt when climbing stairs, doctor?\n### Answer:\n",
    "### Question:\nHi\n### Answer:\n",
    "What do you think of Mars?",
]


@pytest.fixture
def varied_model(tiny_model):
    """The tiny model with an untied random lm_head.

    With tied embeddings a random tiny Llama mostly repeats its last input token; an untied head
    gives varied, well-separated greedy choices, so batched vs single comparisons are meaningful.
    """
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(tiny_model.lm_head.weight.shape, generator=generator)
    tiny_model.lm_head.weight = torch.nn.Parameter(weight)
    return tiny_model


@pytest.fixture
def eos_model(tiny_model, tiny_tokenizer):
    """The tiny model with an lm_head that always prefers EOS."""
    hidden, vocab = tiny_model.config.hidden_size, len(tiny_tokenizer)
    head = torch.nn.Linear(hidden, vocab, bias=True)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[tiny_tokenizer.eos_token_id] = 10.0
    tiny_model.lm_head = head
    return tiny_model


def _reference_ids(model, tokenizer, prompt: str, max_new_tokens: int) -> list[int]:
    """Greedy ids for one unpadded prompt, straight from ``model.generate``."""
    batch = tokenizer([prompt], return_tensors="pt")
    with torch.inference_mode():
        output = model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    return output[0, batch["input_ids"].shape[1] :].tolist()


def test_batched_greedy_equals_one_at_a_time(varied_model, tiny_tokenizer):
    batched = generate_answers(
        varied_model, tiny_tokenizer, PROMPTS, max_new_tokens=12, batch_size=3
    )
    single = [
        generate_answers(varied_model, tiny_tokenizer, [prompt], max_new_tokens=12)[0]
        for prompt in PROMPTS
    ]
    assert batched == single
    assert len({answer.text for answer in batched}) > 1, "the model should not be degenerate"


def test_prompt_batches_respect_the_count_and_the_token_budget():
    lengths = [10, 50, 30, 40, 20]  # by length: 1 (50), 3 (40), 2 (30), 4 (20), 0 (10)
    count_only = GenerationSettings(max_new_tokens=10, batch_size=2)
    assert prompt_batches(lengths, count_only) == [[1, 3], [2, 4], [0]]
    # KV-cache budget 130: rows x (longest + 10). [1, 3] would need 2 x 60 = 120; adding 2: 180.
    budget = GenerationSettings(max_new_tokens=10, batch_size=8, max_batch_tokens=130)
    assert prompt_batches(lengths, budget) == [[1, 3], [2, 4, 0]]  # 3 x (30 + 10) = 120
    # A prompt over the budget alone still gets its own call; nothing is dropped.
    tiny = GenerationSettings(max_new_tokens=10, batch_size=8, max_batch_tokens=5)
    assert prompt_batches(lengths, tiny) == [[1], [3], [2], [4], [0]]
    assert prompt_batches([], budget) == []


def test_a_token_budget_changes_the_batches_not_the_answers(varied_model, tiny_tokenizer):
    unbudgeted = generate_answers(varied_model, tiny_tokenizer, PROMPTS, max_new_tokens=8)
    lengths = [len(ids) for ids in tiny_tokenizer(PROMPTS)["input_ids"]]
    budget = 2 * (max(lengths) + 8)  # the two longest prompts together, the rest in threes or so
    settings = GenerationSettings(max_new_tokens=8, batch_size=8, max_batch_tokens=budget)
    assert len(prompt_batches(lengths, settings)) > 1
    budgeted = generate_answers(varied_model, tiny_tokenizer, PROMPTS, settings)
    assert budgeted == unbudgeted


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "64k"])
def test_a_bad_token_budget_is_refused_naming_the_key(bad):
    with pytest.raises(ValueError, match="generation.max_batch_tokens must be a positive integer"):
        GenerationSettings(max_batch_tokens=bad)


def test_prompt_is_stripped_by_tokens(varied_model, tiny_tokenizer):
    # The special token in the prompt vanishes when decoding with skip_special_tokens, so removing
    # the prompt by string replacement would fail here; slicing ids cannot.
    prompts = [*PROMPTS[:2], "### Question:\nA <|endoftext|> B\n### Answer:\n"]
    answers = generate_answers(varied_model, tiny_tokenizer, prompts, max_new_tokens=10)
    for prompt, answer in zip(prompts, answers, strict=True):
        ids = _reference_ids(varied_model, tiny_tokenizer, prompt, 10)
        expected = _finish(tiny_tokenizer, ids, [tiny_tokenizer.eos_token_id])
        assert answer == expected
        assert "### Question" not in answer.text


def test_answers_keep_the_input_order(varied_model, tiny_tokenizer):
    reversed_answers = generate_answers(
        varied_model, tiny_tokenizer, PROMPTS[::-1], max_new_tokens=8, batch_size=2
    )
    answers = generate_answers(varied_model, tiny_tokenizer, PROMPTS, max_new_tokens=8)
    assert reversed_answers == answers[::-1]


def test_stops_at_eos(eos_model, tiny_tokenizer):
    answers = generate_answers(eos_model, tiny_tokenizer, PROMPTS[:3], max_new_tokens=20)
    assert answers == [GeneratedAnswer(text="", ended_with_eos=True, num_new_tokens=1)] * 3


def test_finish_cuts_at_the_first_eos(tiny_tokenizer):
    eos = tiny_tokenizer.eos_token_id
    words = tiny_tokenizer("Rest and fluids.", add_special_tokens=False)["input_ids"]
    answer = _finish(tiny_tokenizer, [*words, eos, eos, eos], [eos])
    assert answer == GeneratedAnswer("Rest and fluids.", True, len(words) + 1)
    unfinished = _finish(tiny_tokenizer, words, [eos])
    assert unfinished == GeneratedAnswer("Rest and fluids.", False, len(words))


def test_max_new_tokens_is_independent_of_prompt_length(varied_model, tiny_tokenizer):
    long_prompt = "### Question:\n" + " ".join(TINY_CORPUS) + "\n### Answer:\n"
    assert len(tiny_tokenizer(long_prompt)["input_ids"]) > 100  # the walkthrough's max_length
    answers = generate_answers(
        varied_model, tiny_tokenizer, [long_prompt, PROMPTS[3]], max_new_tokens=7
    )
    for answer in answers:
        assert not answer.ended_with_eos
        assert answer.num_new_tokens == 7
        assert answer.text


def test_caller_state_is_left_alone(varied_model, tiny_tokenizer):
    varied_model.train()
    side = tiny_tokenizer.padding_side
    rng = torch.get_rng_state()
    generate_answers(varied_model, tiny_tokenizer, PROMPTS, max_new_tokens=3, do_sample=True)
    assert tiny_tokenizer.padding_side == side
    assert varied_model.training
    assert torch.equal(torch.get_rng_state(), rng)


def test_sampling_is_reproducible_with_a_seed(varied_model, tiny_tokenizer):
    def sample(seed: int) -> list[GeneratedAnswer]:
        return generate_answers(
            varied_model,
            tiny_tokenizer,
            PROMPTS,
            max_new_tokens=8,
            do_sample=True,
            temperature=1.5,
            top_p=0.95,
            seed=seed,
        )

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def _forward_spy(model, monkeypatch) -> list[dict]:
    """Record the keyword arguments of every forward pass of ``model``."""
    calls: list[dict] = []
    original = model.forward

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    return calls


def test_kv_cache_is_forced_on(varied_model, tiny_tokenizer, monkeypatch):
    varied_model.config.use_cache = False
    calls = _forward_spy(varied_model, monkeypatch)
    generate_answers(varied_model, tiny_tokenizer, PROMPTS[:2], max_new_tokens=3)
    assert len(calls) == 3  # one prefill, then one token per step: nothing recomputed
    assert all(call["use_cache"] is True for call in calls)
    assert calls[0]["cache"] is None and all(call["cache"] is not None for call in calls[1:])
    assert all(call["input_ids"].shape[1] == 1 for call in calls[1:])


def _generate_reference(model, tokenizer, prompts: list[str], settings) -> list[list[int]]:
    """``model.generate``'s new ids for a left-padded batch, up to and including the first stop."""
    batch = tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left")
    kwargs = generate_kwargs(model, tokenizer, settings)
    with torch.inference_mode():
        output = model.generate(**batch, **kwargs)
    stops = set(kwargs["eos_token_id"])
    rows = output[:, batch["input_ids"].shape[1] :].tolist()
    return [
        row[: next((i + 1 for i, token in enumerate(row) if token in stops), len(row))]
        for row in rows
    ]


@pytest.mark.parametrize(
    "settings",
    [
        GenerationSettings(max_new_tokens=14),
        GenerationSettings(max_new_tokens=14, repetition_penalty=1.3, no_repeat_ngram_size=2),
    ],
    ids=["plain", "penalties"],
)
def test_decoding_equals_generate_while_finished_rows_leave(
    varied_model, tiny_tokenizer, monkeypatch, request, settings
):
    varied_model.eval()
    plain = _generate_reference(varied_model, tiny_tokenizer, PROMPTS, settings)
    # A token that one answer emits midway becomes a second stop id: that row ends early. It is
    # the pad token too, as SmolLM2's EOS is: the repetition penalty must skip the padding.
    ending = next(row[3] for row in plain if all(row[3] not in other[:3] for other in plain))
    varied_model.generation_config.eos_token_id = [tiny_tokenizer.eos_token_id, ending]
    pad = tiny_tokenizer.pad_token
    tiny_tokenizer.pad_token = tiny_tokenizer.convert_ids_to_tokens(ending)
    request.addfinalizer(lambda: setattr(tiny_tokenizer, "pad_token", pad))  # a session fixture
    expected = _generate_reference(varied_model, tiny_tokenizer, PROMPTS, settings)
    assert any(len(row) < settings.max_new_tokens for row in expected)

    calls = _forward_spy(varied_model, monkeypatch)
    answers = generate_answers(varied_model, tiny_tokenizer, PROMPTS, settings, progress=False)
    stop_ids = [tiny_tokenizer.eos_token_id, ending]
    assert answers == [_finish(tiny_tokenizer, row, stop_ids) for row in expected]
    rows_per_step = [call["input_ids"].shape[0] for call in calls]
    assert rows_per_step[0] == len(PROMPTS) and rows_per_step[-1] < len(PROMPTS)
    assert rows_per_step == sorted(rows_per_step, reverse=True)


def test_eos_ids_merge_tokenizer_and_generation_config(tiny_model, tiny_tokenizer):
    tiny_model.generation_config.eos_token_id = [5, tiny_tokenizer.eos_token_id]
    assert eos_token_ids(tiny_model, tiny_tokenizer) == [tiny_tokenizer.eos_token_id, 5]


def test_empty_and_invalid_inputs(tiny_model, tiny_tokenizer):
    assert generate_answers(tiny_model, tiny_tokenizer, []) == []
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate_answers(tiny_model, tiny_tokenizer, PROMPTS, max_new_tokens=0)


@pytest.mark.parametrize(
    "settings",
    [
        GenerationSettings(max_new_tokens=6),
        GenerationSettings(max_new_tokens=6, do_sample=True, temperature=0.7, top_p=0.9, top_k=5),
    ],
    ids=["greedy", "sampling"],
)
def test_streaming_and_batching_decode_alike(varied_model, tiny_tokenizer, monkeypatch, settings):
    varied_model.eval()
    calls = []
    original = generation.decode

    def spy(model, input_ids, attention_mask, used, stop_ids, **kwargs):
        calls.append((used, stop_ids))
        return original(model, input_ids, attention_mask, used, stop_ids, **kwargs)

    monkeypatch.setattr(generation, "decode", spy)
    batched = generate_answers(varied_model, tiny_tokenizer, PROMPTS[:1], settings, progress=False)
    ids = tiny_tokenizer(PROMPTS[0])["input_ids"]
    streamed = "".join(stream_answer(varied_model, tiny_tokenizer, ids, settings))

    assert len(calls) == 2 and calls[0] == calls[1] == (settings, [tiny_tokenizer.eos_token_id])
    if not settings.do_sample:  # greedy: the very same answer
        assert streamed.strip() == batched[0].text
