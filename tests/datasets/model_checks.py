"""What the model dataset tests compare: same weights, same tokenization, and a short generation."""

from __future__ import annotations

from llm_finetune.datasets import ModelAndTokenizer

TEXTS = ["### Question:\nWhat causes a headache?\n### Answer:\n", "Hello doctor, thanks."]


def assert_same_model(loaded: ModelAndTokenizer, model, tokenizer) -> None:
    import torch

    expected = model.state_dict()
    actual = loaded.model.state_dict()
    assert actual.keys() == expected.keys()
    for key, tensor in expected.items():
        assert torch.equal(actual[key], tensor), key
    assert loaded.tokenizer(TEXTS)["input_ids"] == tokenizer(TEXTS)["input_ids"]


def generate(data: ModelAndTokenizer):
    inputs = data.tokenizer(TEXTS[0], return_tensors="pt")
    return data.model.generate(
        **inputs, max_new_tokens=4, do_sample=False, pad_token_id=data.tokenizer.pad_token_id
    )
