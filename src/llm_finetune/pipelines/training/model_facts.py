"""Facts about the model: its architecture (what ``print(model)`` tells the walkthrough's reader,
counted) and the model report of a training run.

torch is never imported here: the functions only read attributes of the model they are given.
"""

from __future__ import annotations

from typing import Any

#: Block types the parameters are counted by, in the order a forward pass meets them.
BLOCK_TYPES = ("embeddings", "attention", "mlp", "norms", "output_head", "other")
_MLP_NAMES = ("mlp", "feed_forward", "ffn")


def summarize_architecture(base_model: Any) -> dict[str, Any]:
    """The base model's shape: layers, widths, heads, vocabulary, context length, tied embeddings,
    dtype, and its parameters per block type (summing to the total), plus ``print(model)``.

    Works for any transformers causal LM whose config uses (or maps to) the standard names
    (``num_hidden_layers``, ``hidden_size``, ...): Llama (SmolLM2), GPT-NeoX (pythia), GPT-2.
    """
    model, tokenizer = base_model[0], base_model[1]  # a ModelAndTokenizer, or any pair
    config = model.config
    heads = _config_value(config, "num_attention_heads")
    hidden = _config_value(config, "hidden_size")
    head_dim = _config_value(config, "head_dim") or (hidden // heads if hidden and heads else None)
    parameters = count_parameters_by_block(model)
    tied = is_tied(model)
    return {
        "model_class": type(model).__name__,
        "model_type": getattr(config, "model_type", None),
        "name_or_path": str(getattr(model, "name_or_path", "") or ""),
        "layers": _config_value(config, "num_hidden_layers"),
        "hidden_size": hidden,
        "attention_heads": heads,
        # Grouped-query attention shares key/value heads; configs without the field use one
        # key/value head per query head (multi-head attention).
        "key_value_heads": _config_value(config, "num_key_value_heads") or heads,
        "head_dim": head_dim,
        # GPT-2's n_inner is None for the default 4 x hidden.
        "intermediate_size": _config_value(config, "intermediate_size")
        or _config_value(config, "n_inner")
        or (4 * hidden if hidden else None),
        "vocabulary_size": _config_value(config, "vocab_size"),
        "tokenizer_size": len(tokenizer),
        "context_length": _config_value(config, "max_position_embeddings"),
        "tied_embeddings": tied,
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "parameters": parameters,
        "parameters_note": (
            "Counted from the model's named parameters, each shared tensor once"
            + (
                ": the output head shares the input embedding matrix, so it is counted under "
                "embeddings and output_head is 0"
                if tied
                else ""
            )
            + "."
        ),
        # One line each: indent-2 JSON shows it as the walkthrough's print(model) does.
        "module_tree": repr(model).splitlines(),
    }


def count_parameters_by_block(model: Any) -> dict[str, int]:
    """Parameters per block type (:data:`BLOCK_TYPES`) and ``total``, each tensor counted once.

    The block comes from the module holding the parameter: the output embeddings module is the
    output head, any other embedding table (tokens, positions) embeddings, a module whose class
    name says ``Norm`` a norm, then the module path decides (``attn``/``attention`` or
    ``mlp``/``feed_forward``/``ffn``); anything else is ``other``, so the blocks sum to the total.
    """
    head = model.get_output_embeddings()
    counts = dict.fromkeys(BLOCK_TYPES, 0)
    seen: set[int] = set()
    # Module order: the input embeddings come before the head, so a tied matrix counts there.
    for path, module in model.named_modules():
        for parameter in module.parameters(recurse=False):
            if id(parameter) in seen:
                continue
            seen.add(id(parameter))
            counts[_block_of(path, module, head)] += parameter.numel()
    return {"total": sum(counts.values()), **counts}


def _block_of(path: str, module: Any, head: Any) -> str:
    kind = type(module).__name__
    if module is head:
        return "output_head"
    if kind == "Embedding" or kind.endswith("Embedding"):
        return "embeddings"
    if "Norm" in kind:
        return "norms"
    segments = path.lower().split(".")
    if any("attn" in part or "attention" in part for part in segments):
        return "attention"
    if any(part in _MLP_NAMES or "mlp" in part for part in segments):
        return "mlp"
    return "other"


def is_tied(model: Any) -> bool:
    """Whether the output head is the input embedding matrix itself (one tensor, not a copy)."""
    head = model.get_output_embeddings()
    return head is not None and head.weight is model.get_input_embeddings().weight


def _config_value(config: Any, name: str) -> Any:
    value = getattr(config, name, None)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else value


def build_model_report(
    training_metrics: dict[str, Any],
    tokenization_stats: dict[str, Any],
    model_architecture: dict[str, Any],
) -> dict[str, Any]:
    """Model facts and training cost: the training summary, the final eval loss, the tokenization
    counts and the base model's architecture (without its module tree, which
    ``model_architecture`` holds). Memory and GPU sizing is ``infrastructure_sizing``'s."""
    summary = training_metrics["summary"]
    eval_losses = [e["eval_loss"] for e in training_metrics["log_history"] if "eval_loss" in e]
    architecture = {k: v for k, v in model_architecture.items() if k != "module_tree"}
    return {
        **summary,
        "final_eval_loss": eval_losses[-1] if eval_losses else None,
        "tokenization": tokenization_stats,
        "model_architecture": architecture,
    }
