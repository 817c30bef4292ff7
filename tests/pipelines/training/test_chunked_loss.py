"""The chunked loss must equal the model's own loss, with the same gradients."""

import pytest
import torch

from llm_finetune.pipelines.training.chunked_loss import (
    chunked_causal_lm_loss,
    final_hidden_states,
)
from llm_finetune.pipelines.training.packing import collate_rows, isolate_packed_examples, pack_rows
from tests.pipelines.training.test_packing import make_examples, tiny_model


def grads(model):
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


@pytest.mark.parametrize("architecture", ["llama", "gpt_neox"])
@pytest.mark.parametrize("chunk_tokens", [3, 1000])
def test_chunked_loss_equals_model_loss_and_gradients(architecture, chunk_tokens):
    model = tiny_model(architecture)
    isolate_packed_examples(model)
    batch = collate_rows(pack_rows(make_examples(), examples_per_row=2, seed=None), 0)

    model.zero_grad()
    reference = model(**batch).loss
    reference.backward()
    reference_grads = grads(model).clone()

    model.zero_grad()
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    hidden = final_hidden_states(model, inputs)
    total, count = chunked_causal_lm_loss(
        hidden, model.get_output_embeddings(), batch["labels"], chunk_tokens
    )
    loss = total / count
    loss.backward()

    assert count == int((batch["labels"][:, 1:] != -100).sum())
    assert abs(loss.item() - reference.item()) / reference.item() < 1e-5
    error = (grads(model) - reference_grads).abs().max() / reference_grads.abs().max()
    assert error < 1e-5
