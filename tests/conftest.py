"""Shared fixtures: a tiny random-init Llama and a tokenizer trained on the fly, in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_DEV_DATA = PROJECT_ROOT.parent / "shared" / "data" / "ai_medical_chatbot_raw_dev.jsonl"

TINY_CORPUS = [
    "### Question:\nWhat causes a headache behind the eyes?\n### Answer:\nHi. Eye strain or sinus "
    "congestion are common causes. Please see a doctor if it persists.",
    "### Question:\nIs a fever of 39 degrees dangerous?\n### Answer:\nHello. A high fever needs "
    "fluids and rest; consult a physician if it lasts more than three days.",
    "### Question:\nWhy does my knee hurt when climbing stairs?\n### Answer:\nHi. This is often "
    "patellofemoral pain. Physiotherapy and strengthening exercises usually help.",
    "What do you think of Mars? It is a planet. The doctor said hello and thanks for the query.",
]


def record_decoded_prompts(model, monkeypatch, tokenizer=None) -> list:
    """The prompt ids (padding dropped) of every row that ``llm_finetune.generation.decode`` is
    given for ``model``, call after call, or their text when a ``tokenizer`` is given; the real
    decoding runs."""
    from llm_finetune import generation

    prompts: list = []
    decode = generation.decode

    def recording_decode(given_model, input_ids, attention_mask, *args, **kwargs):
        if given_model is model:
            for ids, mask in zip(input_ids, attention_mask, strict=True):
                kept = ids[mask.bool()].tolist()
                prompts.append(tokenizer.decode(kept) if tokenizer is not None else kept)
        return decode(given_model, input_ids, attention_mask, *args, **kwargs)

    monkeypatch.setattr(generation, "decode", recording_decode)
    return prompts


#: A ChatML chat template whose turns end with the tiny tokenizer's EOS, with a default system
#: turn (SmolLM2's layout): the default prompt format (chat) works on tiny models with it.
TINY_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nA default helper."
    "<|endoftext|>\n{% endif %}{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{{ m['content'] }}<|endoftext|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_tokenizer(texts: list[str] | None = None, vocab_size: int = 256):
    """A byte-level BPE tokenizer trained on ``texts`` with ``<|endoftext|>`` as EOS and pad."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator((texts or TINY_CORPUS) * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


def build_tiny_model(tokenizer, seed: int = 0):
    """A 2-layer Llama with random weights, sized for millisecond steps on a CPU."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer()


@pytest.fixture
def tiny_model(tiny_tokenizer):
    return build_tiny_model(tiny_tokenizer)


@pytest.fixture(scope="session")
def real_dev_data() -> Path:
    if not REAL_DEV_DATA.is_file():
        pytest.fail(f"real dev data missing: {REAL_DEV_DATA} (it ships in ../shared/data)")
    return REAL_DEV_DATA


@pytest.fixture(scope="session", autouse=True)
def _tracking_off_by_default(tmp_path_factory):
    """No test writes the repository's mlflow.db, and runs in other tests stay fast.

    Tracking (an MLflow run per ``kedro run``, see ``llm_finetune.hooks``) is switched off with
    ``LLM_FINETUNE_TRACKING=off`` (subprocesses inherit it); the tracking tests switch it on. As a
    safety net, ``MLFLOW_TRACKING_URI`` points at a store in this session's temporary directory.
    """
    store = tmp_path_factory.mktemp("mlflow_default") / "mlflow.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLM_FINETUNE_TRACKING", "off")
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
        yield
