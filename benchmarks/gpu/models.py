"""The models under test: the base model (or a tiny Llama) and pythia-70m's architecture (or a
tiny GPT-NeoX), each with its tokenizer and the real rows tokenized by the project's rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common import load_benchmark_model, tokenized_examples
from timed_training import random_init_pythia_70m

SUITE_MODELS = ("base", "pythia-70m")  # --models: dry run, a tiny Llama and a tiny GPT-NeoX


@dataclass
class Subject:
    """One model under test, with its tokenizer and tokenized real examples."""

    name: str
    model: Any
    tokenizer: Any
    examples: list[dict[str, list[int]]] = field(default_factory=list)


def tiny_tokenizer(texts: list[str], vocab_size: int = 512) -> Any:
    """A byte-level BPE tokenizer trained on ``texts``, ``<|endoftext|>`` as EOS and pad."""
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
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )


def tiny_model(architecture: str, tokenizer: Any, seed: int = 0) -> Any:
    """A 2-layer random-init Llama or GPT-NeoX, sized for millisecond steps on a CPU."""
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    ids = {
        "vocab_size": len(tokenizer),
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.eos_token_id,
        "max_position_embeddings": 512,
    }
    if architecture == "llama":
        config = LlamaConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            tie_word_embeddings=True,
            **ids,
        )
        return LlamaForCausalLM(config)
    config = GPTNeoXConfig(
        hidden_size=64,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        rotary_pct=0.25,
        tie_word_embeddings=False,
        **ids,
    )
    return GPTNeoXForCausalLM(config)


def tiny_llama_on_real_rows(pairs: list[tuple[str, str]]) -> tuple[Any, Any]:
    """(tokenizer trained on the real pairs, tiny random-init Llama): the dry runs' base model."""
    tokenizer = tiny_tokenizer([prompt + answer for prompt, answer in pairs])
    return tokenizer, tiny_model("llama", tokenizer)


def subjects(
    dry_run: bool,
    pairs: list[tuple[str, str]],
    max_length: int,
    base_model: str | None = None,
    models: tuple[str, ...] = SUITE_MODELS,
) -> list[Subject]:
    """The ``models`` asked, in that order, sharing one tokenizer and its examples."""
    if dry_run:
        texts = [f"{prompt}{answer}" for prompt, answer in pairs]
        tokenizer = tiny_tokenizer(texts)
        builders = {
            "base": lambda: ("tiny-llama(random-init)", tiny_model("llama", tokenizer)),
            "pythia-70m": lambda: ("tiny-gpt-neox(random-init)", tiny_model("gpt_neox", tokenizer)),
        }
    else:
        name, base = load_benchmark_model(base_model)  # pythia-70m borrows its tokenizer
        tokenizer = base.tokenizer
        builders = {
            "base": lambda: (name, base.model),
            "pythia-70m": lambda: (
                "pythia-70m(random-init)",
                random_init_pythia_70m(len(tokenizer)),
            ),
        }
    examples = tokenized_examples(tokenizer, pairs, max_length)
    return [Subject(*builders[model](), tokenizer, examples) for model in models]
