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


def test_label_smoothing_matches_torch_and_the_trainers_label_smoother():
    from transformers.trainer_pt_utils import LabelSmoother

    model = tiny_model("llama")
    isolate_packed_examples(model)
    batch = collate_rows(pack_rows(make_examples(), examples_per_row=2, seed=None), 0)
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    labels = batch["labels"]
    with torch.no_grad():
        logits = model(**inputs).logits
        hidden = final_hidden_states(model, inputs)
        head = model.get_output_embeddings()
        plain_total, count = chunked_causal_lm_loss(hidden, head, labels, 5)
        total, _ = chunked_causal_lm_loss(hidden, head, labels, 5, label_smoothing=0.1)
    reference = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]),
        labels[:, 1:].reshape(-1),
        ignore_index=-100,
        label_smoothing=0.1,
    )
    smoother = LabelSmoother(epsilon=0.1)({"logits": logits}, labels, shift_labels=True)
    loss = (total / count).item()
    assert loss == pytest.approx(reference.item(), rel=1e-5)
    assert loss == pytest.approx(smoother.item(), rel=1e-5)
    assert abs(loss - (plain_total / count).item()) > 1e-3  # smoothing changed the loss


def test_the_project_trainer_trains_with_label_smoothing_as_the_hf_trainer_does(tmp_path):
    """``training.trainer.label_smoothing_factor`` reaches the chunked loss: the training loss
    changes, and equals the Hugging Face Trainer's own (LabelSmoother) loss."""
    from llm_finetune.config.trainer_arguments import training_arguments
    from llm_finetune.pipelines.training.trainer import make_trainer_class

    model = tiny_model("gpt_neox")
    isolate_packed_examples(model)
    batch = collate_rows(pack_rows(make_examples(), examples_per_row=2, seed=None), 0)

    def training_loss(smoothing: float, chunk_tokens: int | None) -> float:
        training = {"trainer": {"label_smoothing_factor": smoothing, "max_steps": 1}}
        args = training_arguments(training, str(tmp_path / str(chunk_tokens)), "cpu")
        trainer = make_trainer_class(chunk_tokens)(model=model, args=args, eval_dataset=[batch])
        with torch.no_grad():
            return trainer.compute_loss(model, dict(batch)).item()

    smoothed = training_loss(0.1, chunk_tokens=4)
    assert smoothed == pytest.approx(training_loss(0.1, chunk_tokens=None), rel=1e-5)
    assert abs(smoothed - training_loss(0.0, chunk_tokens=4)) > 1e-3
