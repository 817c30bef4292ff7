"""The pad token rule every loaded model goes through, so padding is defined before tokenizing."""

from __future__ import annotations

from typing import Any


def ensure_pad_token(model: Any, tokenizer: Any) -> None:
    """Give the tokenizer a pad token (EOS, the walkthrough's choice) and set it on the model
    (``model`` None: the tokenizer only)."""
    from kedro.io import DatasetError  # raised while a model dataset loads

    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise DatasetError("the tokenizer has neither a pad token nor an EOS token to pad with")
        tokenizer.pad_token = tokenizer.eos_token
    if model is None:
        return
    model.config.pad_token_id = tokenizer.pad_token_id
    generation_config = getattr(model, "generation_config", None)
    if generation_config is not None and generation_config.pad_token_id is None:
        generation_config.pad_token_id = tokenizer.pad_token_id
