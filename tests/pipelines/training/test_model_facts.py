"""The architecture summary (what ``print(model)`` tells, counted) and the model report."""

from __future__ import annotations

import pytest

from llm_finetune.datasets.model_dirs import ModelAndTokenizer
from llm_finetune.pipelines.training import model_facts
from llm_finetune.pipelines.training.sizing_inputs import config_from_values, count_on_meta_device
from tests.conftest import build_tiny_model

PYTHIA_70M = {
    "model_type": "gpt_neox",
    "hidden_size": 512,
    "num_hidden_layers": 6,
    "num_attention_heads": 8,
    "intermediate_size": 2048,
    "vocab_size": 50304,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": False,
}


def test_tiny_llama_summary_by_hand(tiny_tokenizer):
    base = ModelAndTokenizer(build_tiny_model(tiny_tokenizer), tiny_tokenizer)
    summary = model_facts.summarize_architecture(base)

    vocabulary = len(tiny_tokenizer)  # 257: the embedding matrix has one row per token
    assert summary["model_class"] == "LlamaForCausalLM"
    assert (summary["layers"], summary["hidden_size"], summary["intermediate_size"]) == (2, 32, 64)
    heads = (summary["attention_heads"], summary["key_value_heads"], summary["head_dim"])
    assert heads == (4, 2, 8)
    assert summary["vocabulary_size"] == summary["tokenizer_size"] == vocabulary
    assert summary["context_length"] == 512
    assert summary["tied_embeddings"] is True
    assert summary["dtype"] == "float32"
    # Per layer: q and o 32x32, k and v 32x16 (2 key/value heads of 8); gate, up, down 32x64;
    # two RMSNorms of 32, plus the final one. The tied head is counted once, as embeddings.
    assert summary["parameters"] == {
        "total": 26_816,
        "embeddings": vocabulary * 32,  # 8224
        "attention": 2 * (32 * 32 * 2 + 32 * 16 * 2),  # 6144
        "mlp": 2 * (3 * 32 * 64),  # 12288
        "norms": 2 * 2 * 32 + 32,  # 160
        "output_head": 0,
        "other": 0,
    }
    assert summary["parameters"]["total"] == sum(p.numel() for p in base.model.parameters())
    assert summary["module_tree"][0] == "LlamaForCausalLM("
    assert any("(self_attn): LlamaAttention(" in line for line in summary["module_tree"])


def test_pythia_70m_counted_on_the_meta_device(tiny_tokenizer):
    """GPT-NeoX naming (attention.query_key_value, mlp.dense_h_to_4h, embed_in), untied head."""
    import torch
    from transformers import AutoModelForCausalLM

    config = config_from_values(PYTHIA_70M)
    assert count_on_meta_device(config) == 70_426_624
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    summary = model_facts.summarize_architecture(ModelAndTokenizer(model, tiny_tokenizer))

    assert (summary["layers"], summary["attention_heads"], summary["key_value_heads"]) == (6, 8, 8)
    assert summary["tied_embeddings"] is False
    per_layer_attention = (512 * 1536 + 1536) + (512 * 512 + 512)  # fused qkv + output, biases
    per_layer_mlp = (512 * 2048 + 2048) + (2048 * 512 + 512)
    per_layer_norms = 2 * (512 + 512)  # LayerNorm weight and bias
    assert summary["parameters"] == {
        "total": 70_426_624,
        "embeddings": 50304 * 512,  # 25,755,648
        "attention": 6 * per_layer_attention,  # 6,303,744
        "mlp": 6 * per_layer_mlp,  # 12,598,272
        "norms": 6 * per_layer_norms + 1024,  # 13,312 with the final LayerNorm
        "output_head": 50304 * 512,
        "other": 0,
    }


def test_model_report_holds_the_architecture_without_the_module_tree():
    metrics = {
        "summary": {"total_parameters": 10, "method": "full"},
        "log_history": [{"step": 1, "loss": 3.0}, {"step": 1, "eval_loss": 2.5}],
    }
    architecture = {"layers": 2, "parameters": {"total": 10}, "module_tree": ["Model("]}
    report = model_facts.build_model_report(metrics, {"max_length": 8}, architecture)
    assert report["final_eval_loss"] == pytest.approx(2.5)
    assert report["model_architecture"] == {"layers": 2, "parameters": {"total": 10}}
    assert report["total_parameters"] == 10 and report["tokenization"] == {"max_length": 8}
