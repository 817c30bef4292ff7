"""Model directories: the completeness check, and what a save makes of GGUF and peft models."""

from __future__ import annotations

import pytest

from llm_finetune.datasets import HFModelDataset, ModelAndTokenizer, make_serializable
from llm_finetune.datasets.model_dirs import is_complete_model_dir
from tests.datasets.model_checks import TEXTS, assert_same_model


def test_is_complete_model_dir(tmp_path):
    assert not is_complete_model_dir(tmp_path / "absent")
    (tmp_path / "config.json").write_text("{}")
    assert not is_complete_model_dir(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert is_complete_model_dir(tmp_path)


def test_make_serializable_strips_gguf_markers(tmp_path, tiny_model, tiny_tokenizer):
    """What transformers sets on a GGUF-loaded model, reproduced without loading a GGUF."""
    from transformers import GgufConfig
    from transformers.quantizers.quantizer_gguf import GgufHfQuantizer
    from transformers.utils.quantization_config import QuantizationMethod

    config = GgufConfig(gguf_file="model.gguf")
    tiny_model.hf_quantizer = GgufHfQuantizer(config)
    tiny_model.is_quantized = True
    tiny_model.quantization_method = QuantizationMethod.GGUF
    tiny_model._weight_conversions = []
    tiny_model.config.quantization_config = config
    tiny_model.config._is_quantized = True
    with pytest.raises(ValueError, match="not serializable"):
        tiny_model.save_pretrained(tmp_path / "refused")

    assert make_serializable(tiny_model) is tiny_model
    assert getattr(tiny_model, "hf_quantizer", None) is None
    assert not tiny_model.is_quantized
    assert not hasattr(tiny_model.config, "quantization_config")

    dataset = HFModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(ModelAndTokenizer(tiny_model, tiny_tokenizer))
    assert "quantization_config" not in (tmp_path / "model" / "config.json").read_text()
    assert_same_model(dataset.load(), tiny_model, tiny_tokenizer)


def test_peft_model_is_saved_merged(tmp_path, tiny_model, tiny_tokenizer):
    import torch
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(
        tiny_model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    inputs = tiny_tokenizer(TEXTS[0], return_tensors="pt")
    with torch.no_grad():
        expected = peft_model(**inputs).logits

    dataset = HFModelDataset(filepath=str(tmp_path / "model"))
    dataset.save(ModelAndTokenizer(peft_model, tiny_tokenizer))
    assert not (tmp_path / "model" / "adapter_config.json").exists()
    assert hasattr(peft_model, "peft_config")  # the caller's model keeps its adapters

    loaded = dataset.load()
    assert not any("lora" in key for key in loaded.model.state_dict())
    with torch.no_grad():
        actual = loaded.model(**inputs).logits
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
