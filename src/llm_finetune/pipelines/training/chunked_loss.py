"""Causal-LM cross-entropy without materialising full-vocabulary logits for every token.

A model's usual forward turns all hidden states into ``tokens x vocab`` logits (upcast to fp32 for
the loss): for 16 x 2048 tokens and SmolLM2's 49,152-token vocabulary that is 6 GiB, which caps the
batch on a GPU long before the weights do. Here the decoder runs alone, and the loss is computed
``chunk_tokens`` positions at a time; each chunk's logits are recomputed in the backward pass
(activation checkpointing), so at most one chunk of logits exists at any moment.
"""

from __future__ import annotations

from typing import Any

from llm_finetune.modeling.examples import IGNORE_INDEX


def chunked_causal_lm_loss(
    hidden_states: Any,
    lm_head: Any,
    labels: Any,
    chunk_tokens: int = 4096,
    label_smoothing: float = 0.0,
) -> tuple[Any, Any]:
    """Summed next-token cross-entropy and the number of labelled tokens.

    ``hidden_states`` [batch, seq, hidden] from the decoder, ``lm_head`` the output projection,
    ``labels`` [batch, seq] with -100 where no loss is taken (shifted here, like the HF loss).
    ``label_smoothing``: ``training.trainer.label_smoothing_factor``; per labelled token
    ``(1 - e) * nll + e * mean over the vocabulary of -log p``, as torch's ``cross_entropy`` and
    the Trainer's ``LabelSmoother`` compute it.
    """
    import torch
    from torch.utils.checkpoint import checkpoint

    hidden = hidden_states[:, :-1, :].reshape(-1, hidden_states.shape[-1])
    targets = labels[:, 1:].reshape(-1)
    keep = targets != IGNORE_INDEX
    hidden, targets = hidden[keep], targets[keep]  # only labelled positions reach the lm head

    def chunk_loss(h: Any, t: Any) -> Any:
        logits = lm_head(h).float()
        return torch.nn.functional.cross_entropy(
            logits, t, reduction="sum", label_smoothing=label_smoothing
        )

    total = hidden.new_zeros((), dtype=torch.float32)
    for start in range(0, targets.numel(), chunk_tokens):
        end = start + chunk_tokens
        chunk = checkpoint(chunk_loss, hidden[start:end], targets[start:end], use_reentrant=False)
        total = total + chunk
    return total, keep.sum()


def final_hidden_states(model: Any, inputs: dict[str, Any]) -> Any:
    """The last layer's (normed) hidden states, through the model's own forward.

    Going through ``model(...)`` keeps DDP/FSDP wrappers in charge of gradient synchronisation;
    ``logits_to_keep=1`` makes the model project only the last position onto the vocabulary.
    """
    outputs = model(**inputs, output_hidden_states=True, logits_to_keep=1)
    return outputs.hidden_states[-1]
