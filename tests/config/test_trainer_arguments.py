"""Every ``training.trainer`` key and value is checked by Hugging Face ``TrainingArguments``
itself (``config/trainer_arguments.py``), and the chunked loss refuses the Trainer loss options
it would bypass."""

from __future__ import annotations

import pytest

from llm_finetune.config import SettingsError, TrainingSettings
from llm_finetune.config.trainer_arguments import (
    CHUNKED_LOSS_BYPASSES,
    check_trainer_keys,
    check_training_arguments,
)


@pytest.mark.parametrize(
    ("trainer", "message"),
    [
        (
            {"label_smoothing_factor": "abc"},
            r"^training\.trainer\.label_smoothing_factor must be a number \(the type of "
            r"TrainingArguments\.label_smoothing_factor\), got 'abc' \(training pipeline\)$",
        ),
        ({"torch_compile": "yes"}, r"^training\.trainer\.torch_compile must be true or false"),
        ({"eval_accumulation_steps": 1.5}, r"^training\.trainer\.eval_accumulation_steps must be"),
        ({"optim_target_modules": 3}, r"^training\.trainer\.optim_target_modules must be null or"),
        ({"report_to": "mlflow"}, r"^training\.trainer\.report_to: set by the project"),
        ({"warmup_step": 1}, r"^training\.trainer: warmup_step is not a field of Hugging Face"),
        ({"optim": "adamx"}, r"^training\.trainer\.optim: Hugging Face TrainingArguments refuses"),
        (
            {"lr_scheduler_type": "wobbly"},
            r"^training\.trainer\.lr_scheduler_type: Hugging Face TrainingArguments refuses",
        ),
        (
            {"eval_steps": 7},  # save_steps 20 is no multiple of it, with load_best_model_at_end
            r"^training\.trainer\.load_best_model_at_end: .*round multiple of the evaluation",
        ),
    ],
)
def test_a_bad_trainer_value_fails_naming_its_key(trainer, message):
    settings = TrainingSettings.from_params({"trainer": trainer})
    with pytest.raises(SettingsError, match=message):
        check_training_arguments(settings, "cpu")


def test_the_readmes_fsdp_settings_pass_the_type_check():
    """``fsdp`` is annotated ``str | None``; TrainingArguments takes true (and lists) as well."""
    trainer = {"fsdp": True, "fsdp_config": {"version": 2, "activation_checkpointing": True}}
    check_trainer_keys(TrainingSettings.from_params({"trainer": trainer}))
    check_trainer_keys(TrainingSettings.from_params({"trainer": {"fsdp": ["full_shard"]}}))
    with pytest.raises(SettingsError, match=r"^training\.trainer\.fsdp must be true or false or"):
        check_trainer_keys(TrainingSettings.from_params({"trainer": {"fsdp": 3}}))


def test_good_trainer_values_of_any_training_arguments_field_pass():
    trainer = {"label_smoothing_factor": 0.1, "torch_compile": False, "eval_delay": 0}
    check_training_arguments(TrainingSettings.from_params({"trainer": trainer}), "cpu")
    check_training_arguments(TrainingSettings(), "cpu")


@pytest.mark.parametrize(
    ("key", "value"),
    [("use_liger_kernel", True), ("liger_kernel_config", {"rope": True}), ("label_names", ["y"])],
)
def test_the_chunked_loss_refuses_the_loss_options_it_would_bypass(key, value):
    assert key in CHUNKED_LOSS_BYPASSES
    settings = TrainingSettings.from_params({"trainer": {key: value}})
    with pytest.raises(SettingsError, match=rf"^training\.trainer\.{key}=.* not applied by the"):
        check_trainer_keys(settings)
    # The model's own loss goes through the Trainer's compute_loss, which applies them.
    check_trainer_keys(
        TrainingSettings.from_params({"trainer": {key: value}, "chunked_loss": {"enabled": False}})
    )


def test_the_loss_options_the_chunked_loss_applies_pass():
    trainer = {"label_smoothing_factor": 0.1, "average_tokens_across_devices": True}
    check_trainer_keys(TrainingSettings.from_params({"trainer": trainer}))
    check_trainer_keys(TrainingSettings.from_params({"trainer": {"label_names": ["labels"]}}))
