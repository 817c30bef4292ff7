"""Packed rows must compute exactly what the examples compute one by one."""

import pytest
import torch

from llm_finetune.modeling.examples import IGNORE_INDEX
from llm_finetune.pipelines.training.packing import (
    as_rows,
    collate_rows,
    isolate_packed_examples,
    pack_rows,
)


def tiny_model(architecture: str, vocab_size: int = 64):
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if architecture == "llama":
        config = LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
        return LlamaForCausalLM(config)
    config = GPTNeoXConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
    )
    return GPTNeoXForCausalLM(config)


def make_examples(lengths=(7, 12, 5), prompt=3, vocab_size=64):
    generator = torch.Generator().manual_seed(1)
    examples = []
    for length in lengths:
        ids = torch.randint(1, vocab_size, (length,), generator=generator).tolist()
        examples.append({"input_ids": ids, "labels": [IGNORE_INDEX] * prompt + ids[prompt:]})
    return examples


def summed_loss_one_by_one(model, examples):
    total, count = 0.0, 0
    for example in examples:
        ids = torch.tensor([example["input_ids"]])
        labels = torch.tensor([example["labels"]])
        n = int((labels[:, 1:] != IGNORE_INDEX).sum())
        total = total + model(input_ids=ids, labels=labels).loss * n
        count += n
    return total, count


def grads(model):
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


@pytest.mark.parametrize("architecture", ["llama", "gpt_neox"])
@pytest.mark.parametrize("rows_of", ["one_row", "two_padded_rows"])
def test_packed_loss_and_gradients_equal_one_by_one(architecture, rows_of):
    model = tiny_model(architecture)
    isolate_packed_examples(model)
    examples = make_examples()
    if rows_of == "one_row":
        rows = pack_rows(examples, examples_per_row=3, seed=None)
        assert len(rows) == 1
    else:
        rows = pack_rows(examples, examples_per_row=2, seed=None)
        assert len(rows) == 2 and len(rows[0]["input_ids"]) != len(rows[1]["input_ids"])
    batch = collate_rows(rows, pad_token_id=0)
    assert "attention_mask" not in batch

    model.zero_grad()
    packed = model(**batch).loss
    packed.backward()
    packed_grads = grads(model).clone()

    model.zero_grad()
    summed, count = summed_loss_one_by_one(model, examples)
    reference = summed / count
    reference.backward()
    reference_grads = grads(model)

    assert abs(packed.item() - reference.item()) / reference.item() < 1e-4
    grad_error = (packed_grads - reference_grads).abs().max() / reference_grads.abs().max()
    assert grad_error < 1e-4


def test_rows_restart_positions_and_mask_boundaries():
    examples = make_examples(lengths=(4, 3), prompt=0)
    (row,) = pack_rows(examples, examples_per_row=2, seed=None)
    assert row["position_ids"] == [0, 1, 2, 3, 0, 1, 2]
    assert row["input_ids"] == examples[0]["input_ids"] + examples[1]["input_ids"]
    # No example predicts the next one's first token.
    assert row["labels"][0] == IGNORE_INDEX and row["labels"][4] == IGNORE_INDEX
    assert row["labels"][5:] == examples[1]["input_ids"][1:]


def test_token_budget_closes_rows_and_keeps_every_example():
    examples = make_examples(lengths=(5, 5, 5, 12), prompt=0)
    rows = pack_rows(examples, max_tokens_per_row=10, seed=None)
    assert [len(r["input_ids"]) for r in rows] == [10, 5, 12]  # an oversize example stands alone
    assert sum(len(r["input_ids"]) for r in rows) == sum(len(e["input_ids"]) for e in examples)


def test_shuffle_is_seeded_and_as_rows_is_one_example_per_row():
    examples = make_examples(lengths=tuple(range(3, 11)), prompt=0)
    first = pack_rows(examples, examples_per_row=2, seed=5)
    assert first == pack_rows(examples, examples_per_row=2, seed=5)
    assert first != pack_rows(examples, examples_per_row=2, seed=6)
    assert [r["input_ids"] for r in as_rows(examples)] == [e["input_ids"] for e in examples]
    with pytest.raises(ValueError):
        pack_rows(examples)


def test_padding_segment_carries_no_loss():
    rows = as_rows(make_examples(lengths=(6, 3), prompt=0))
    batch = collate_rows(rows, pad_token_id=0)
    assert batch["labels"][1].tolist()[3:] == [IGNORE_INDEX] * 3
    assert batch["position_ids"][1].tolist() == [0, 1, 2, 0, 1, 2]
