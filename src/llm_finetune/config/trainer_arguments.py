"""The run's Hugging Face ``TrainingArguments``, built from the training settings.

One builder, :func:`training_arguments`, used by ``fine_tune`` and by the parameter check before
any node runs (:func:`check_training_arguments`), so the Trainer's own types check every
``training.trainer`` key, as TRL's ``SFTConfig`` extends ``TrainingArguments``:

- a key ``TrainingArguments`` does not define fails (``training.trainer: warmup_step is not a
  field of Hugging Face TrainingArguments``);
- a value of the wrong type fails against the field's annotation
  (``training.trainer.label_smoothing_factor must be a number, got 'abc'``);
- a value ``TrainingArguments`` itself refuses (an unknown optimizer, eval and save steps that do
  not fit) fails with its message, under the key it names;
- with the chunked loss on, a Trainer loss option the chunked loss does not apply fails
  (:data:`CHUNKED_LOSS_BYPASSES`); label smoothing and token averaging it applies.

transformers is imported inside the functions (seconds): importing this module stays cheap.
"""

from __future__ import annotations

import dataclasses
import functools
import tempfile
import typing
from collections.abc import Mapping
from typing import Any

from llm_finetune.config.base import SettingsError, describe, matches
from llm_finetune.config.training import TRAINING, TrainingSettings

TRAINER = "training.trainer"
#: ``TrainingArguments`` fields the Trainer's ``compute_loss`` path reads to shape the loss and
#: the chunked loss (``training.chunked_loss``) does not apply -> the values it accepts, and why.
#: Checked in transformers 5 (``Trainer.compute_loss``, ``LabelSmoother``): it applies
#: ``label_smoothing_factor`` and ``average_tokens_across_devices`` itself; ``past_index`` no longer
#: exists; ``neftune_noise_alpha`` hooks the embeddings, so any forward applies it;
#: ``parallelism_config`` (DeepSpeed sequence parallelism's loss) cannot be given as a parameter.
CHUNKED_LOSS_BYPASSES: dict[str, tuple[tuple[Any, ...], str]] = {
    "use_liger_kernel": ((False,), "Liger's fused linear cross-entropy replaces the model's loss"),
    "liger_kernel_config": ((None,), "it configures Liger's loss kernels"),
    "label_names": ((None, ["labels"], ("labels",)), "the chunked loss reads the labels column"),
}


#: Fields whose ``TrainingArguments.__post_init__`` accepts more than their annotation says (in
#: transformers 5): ``fsdp`` is annotated ``str | None`` but ``_process_fsdp_args`` takes true and
#: lists of options too (the README's ``training.trainer.fsdp=true``).
WIDER_THAN_ANNOTATED: dict[str, Any] = {"fsdp": bool | str | list[str] | None}
#: ``TrainingArguments`` fields the project sets itself (:func:`training_arguments`), so not
#: ``training.trainer`` keys: evaluation and saving by steps (the checkpoints and early stopping
#: rely on them), bf16 where the device runs it fast, no reporting (MLflow is the tracking hook's).
PROJECT_SET = (
    "output_dir",
    "eval_strategy",
    "save_strategy",
    "bf16",
    "report_to",
    "remove_unused_columns",
    "dataloader_pin_memory",
)


def training_arguments(
    training: TrainingSettings | Mapping[str, Any], output_dir: str, device_type: str
) -> Any:
    """The run's ``TrainingArguments`` from the training settings (or ``params:training``): the
    trainer keywords the settings yield (:meth:`TrainingSettings.trainer_kwargs`: the ``trainer``
    block with the effective learning rate), step-wise evaluation and saving, bf16 where the
    device runs it fast, and the launcher's process group under torchrun / accelerate launch.

    Raises :class:`SettingsError` naming the ``training.trainer`` key a value is unusable for."""
    from transformers import TrainingArguments

    from llm_finetune import distributed
    from llm_finetune.hardware import fast_bf16_supported

    settings = TrainingSettings.from_params(training)
    check_trainer_keys(settings)
    # Under torchrun / accelerate launch: DDP over gloo without CUDA (NCCL with it).
    trainer_args = distributed.launcher_trainer_args(settings.trainer_kwargs(), device_type)
    try:
        return TrainingArguments(
            output_dir=output_dir,
            eval_strategy="steps",
            save_strategy="steps",
            bf16=fast_bf16_supported(device_type),
            report_to="none",
            remove_unused_columns=False,
            dataloader_pin_memory=device_type == "cuda",
            **trainer_args,
        )
    except (ValueError, TypeError) as error:
        where = _named_key(settings.trainer.to_dict(), str(error))
        raise SettingsError(
            f"{where}: Hugging Face TrainingArguments refuses the settings: {error} "
            f"({TRAINING} pipeline)"
        ) from error


def check_training_arguments(training: TrainingSettings, device_type: str) -> None:
    """Build the run's ``TrainingArguments`` (nothing is written), failing as
    :func:`training_arguments` does; the parameter check runs it before any node."""
    with tempfile.TemporaryDirectory() as output_dir:
        training_arguments(training, output_dir, device_type)


def check_trainer_keys(training: TrainingSettings) -> None:
    """Fail naming the key when ``training.trainer`` holds a key ``TrainingArguments`` does not
    define, a value its annotation does not allow, or (with the chunked loss) a loss option the
    chunked loss would silently bypass."""
    trainer = training.trainer.to_dict()
    hints = _training_arguments_fields()
    unknown = sorted(str(key) for key in set(trainer) - set(hints))
    if unknown:
        raise SettingsError(
            f"{TRAINER}: {', '.join(unknown)} "
            f"{'is not a field' if len(unknown) == 1 else 'are not fields'} of Hugging Face "
            f"TrainingArguments ({TRAINING} pipeline; check the spelling in "
            "conf/*/parameters_training.yml or --params)"
        )
    for key in PROJECT_SET:
        if key in trainer:
            raise SettingsError(
                f"{TRAINER}.{key}: set by the project, not a setting (config/trainer_arguments.py"
                f" PROJECT_SET: {', '.join(PROJECT_SET)}) ({TRAINING} pipeline)"
            )
    for key, value in trainer.items():
        if not matches(value, hints[key]):
            raise SettingsError(
                f"{TRAINER}.{key} must be {describe(hints[key])} (the type of "
                f"TrainingArguments.{key}), got {value!r} ({TRAINING} pipeline)"
            )
    if training.chunked_loss.enabled:
        for key, (accepted, why) in CHUNKED_LOSS_BYPASSES.items():
            if key in trainer and trainer[key] not in accepted:
                raise SettingsError(
                    f"{TRAINER}.{key}={trainer[key]!r} is not applied by the chunked loss ({why});"
                    f" set training.chunked_loss.enabled false to use it ({TRAINING} pipeline)"
                )


def _named_key(trainer: dict[str, Any], message: str) -> str:
    """The full key ``TrainingArguments``' error is about: the first key it names, else the first
    whose (text) value it quotes (``adamx is not a valid OptimizerNames``), else the block."""
    named = [key for key in trainer if key in message]
    named += [key for key, value in trainer.items() if isinstance(value, str) and value in message]
    return f"{TRAINER}.{named[0]}" if named else TRAINER


@functools.cache
def _training_arguments_fields() -> dict[str, Any]:
    """``TrainingArguments``' init fields -> their annotations (evaluated)."""
    from transformers import TrainingArguments

    hints = {**typing.get_type_hints(TrainingArguments), **WIDER_THAN_ANNOTATED}
    return {
        item.name: hints[item.name] for item in dataclasses.fields(TrainingArguments) if item.init
    }
