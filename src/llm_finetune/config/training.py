"""Typed settings of the training pipeline (``params:training``), one class per concern, as TRL's
``SFTConfig``: :class:`TokenizationSettings`, :class:`TrainerSettings`, :class:`LoraSettings`,
:class:`PackingSettings`, :class:`ChunkedLossSettings`, and :class:`TrainingSettings` holding them.

conf/base/parameters_training.yml is generated from these classes (``config/defaults.py``),
so ``TrainingSettings()`` is the default run. Derived settings live here, not in the nodes: the
learning rate the Trainer uses (:attr:`TrainingSettings.effective_learning_rate`: LoRA's when
LoRA is on) and the ``TrainingArguments`` keywords (:meth:`TrainingSettings.trainer_kwargs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from llm_finetune.config.base import (
    NON_NEGATIVE_INT,
    NON_NEGATIVE_INT_OR_NULL,
    NON_NEGATIVE_NUMBER,
    POSITIVE_INT,
    POSITIVE_INT_OR_NULL,
    POSITIVE_NUMBER,
    Settings,
    SettingsError,
    rule,
)

TRAINING = "training"
#: transformers attention kernels that keep packed examples isolated (a mask from position ids).
ATTENTION_IMPLEMENTATIONS = ("sdpa", "eager", "flex_attention")


@dataclass(frozen=True)
class TokenizationSettings(Settings):
    """How question/answer pairs become training examples (``training.tokenization``)."""

    SECTION = "training.tokenization"
    PIPELINE = TRAINING
    RULES = {"max_length": POSITIVE_INT}

    #: Longest example in tokens (walkthrough: 2048); longer answers are truncated and counted,
    #: an example whose prompt alone is longer is dropped.
    max_length: int = 2048
    #: Loss on answer tokens only (prompt labels -100). false trains on the full text, as the
    #: walkthrough.
    answer_only_loss: bool = True


@dataclass(frozen=True)
class TrainerSettings(Settings):
    """Hugging Face ``TrainingArguments`` keys (``training.trainer``).

    The fields are the keys conf/base sets; any other ``TrainingArguments`` field may be given
    too and is kept in :attr:`extra` (``torch_compile``, ``use_cpu``, ...). Every key, and its
    value, is checked by ``TrainingArguments`` itself (``config/trainer_arguments.py``, which
    imports transformers: seconds), so the parameter check runs that only when the run trains.
    """

    SECTION = "training.trainer"
    PIPELINE = TRAINING
    RULES = {
        "learning_rate": POSITIVE_NUMBER,
        "per_device_train_batch_size": POSITIVE_INT,
        "gradient_accumulation_steps": POSITIVE_INT,
        "warmup_steps": NON_NEGATIVE_NUMBER,
        "weight_decay": NON_NEGATIVE_NUMBER,
        "save_total_limit": NON_NEGATIVE_INT_OR_NULL,
        "per_device_eval_batch_size": POSITIVE_INT,
        "dataloader_num_workers": NON_NEGATIVE_INT,
    }

    #: Peak learning rate of full fine-tuning (LoRA uses `training.lora.learning_rate`). Chosen
    #: by the sweep on the real rows (docs/quality.md). Against the walkthrough's 1e-5, at 60
    #: steps: validation answer perplexity 26.1 -> 19.0, token F1 0.148 -> 0.183.
    learning_rate: float = 1.0e-4
    #: Rows (of packed examples, or single examples) per device per forward pass. One row of 4
    #: packed examples per optimizer step: the walkthrough's 4 examples per step (batch 1 x
    #: grad-accum 4) without its per-example overhead (measured faster on a 2-core CPU;
    #: benchmarks/train_throughput.py). Set packing.enabled false and grad-accum 4 for the
    #: original.
    per_device_train_batch_size: int = 1
    #: Forward/backward passes per optimizer step.
    gradient_accumulation_steps: int = 1
    #: Optimizer name, as ``TrainingArguments.optim`` takes it (e.g. adafactor, adamw_torch_fused).
    optim: str = "adafactor"
    #: Linear warm-up steps (a fraction of the run when below 1).
    warmup_steps: float = 1
    #: Learning-rate schedule after the warm-up.
    lr_scheduler_type: str = "linear"
    #: AdamW-style weight decay.
    weight_decay: float = 0.0
    #: Gradient clipping norm.
    max_grad_norm: float = 1.0
    #: Optimizer steps of the run (also what a finished checkpoint reached). Keeps the default
    #: run to a few minutes on a 2-core CPU (walkthrough: 3 steps as a demo).
    max_steps: int = 60
    #: Log the loss every this many steps.
    logging_steps: float = 1
    #: Evaluate the validation split every this many steps (null: as logging_steps).
    eval_steps: float | None = 20
    #: Write a checkpoint every this many steps.
    save_steps: float = 20
    #: Newest checkpoints kept (the best one is kept in addition); null keeps all.
    save_total_limit: int | None = 1
    #: Validation rows per device per forward pass.
    per_device_eval_batch_size: int = 4
    #: Load the best checkpoint (by metric_for_best_model) when training ends.
    load_best_model_at_end: bool = True
    #: The metric that picks the best checkpoint and drives early stopping.
    metric_for_best_model: str | None = "eval_loss"
    #: Whether a higher metric_for_best_model is better.
    greater_is_better: bool | None = False
    #: Seed of the Trainer (weights, dropout, data order) and of the packing shuffle.
    seed: int = 42
    #: DataLoader worker processes (0: load in the main process).
    dataloader_num_workers: int = 0
    #: Other ``TrainingArguments`` fields given under ``training.trainer``, as given.
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def known_keys(cls) -> list[str]:
        return [item.name for item in fields(cls) if item.name != "extra"]

    @classmethod
    def _split_unknown(cls, params: dict[str, Any], where: str) -> dict[str, Any]:
        known = cls.known_keys()
        extra = {key: value for key, value in params.items() if key not in known}
        return {**{key: params[key] for key in known if key in params}, "extra": extra}

    def to_dict(self) -> dict[str, Any]:
        """The ``training.trainer`` block: the fields, then the extra keys, as given."""
        result = super().to_dict()
        extra = result.pop("extra")
        return {**result, **extra}


@dataclass(frozen=True)
class LoraSettings(Settings):
    """LoRA adapters via peft (``training.lora``); merged into the base weights when saved."""

    SECTION = "training.lora"
    PIPELINE = TRAINING
    RULES = {"r": POSITIVE_INT, "alpha": POSITIVE_NUMBER, "learning_rate": POSITIVE_NUMBER}

    #: Train adapters instead of every weight.
    enabled: bool = False
    #: Rank of the adapters (rank, scaling and dropout: the LoRA paper / peft defaults for
    #: small models).
    r: int = 16
    #: Scaling numerator (the adapters' output is scaled by alpha / r).
    alpha: float = 32
    #: Dropout on the adapters' input.
    dropout: float = 0.05
    #: Module names to adapt (or one regex / "all-linear"); null uses peft's default for the
    #: architecture (attention projections).
    target_modules: str | tuple[str, ...] | None = None
    #: Learning rate used instead of `training.trainer.learning_rate` when LoRA is on: adapters
    #: train with a larger one than full fine-tuning (1e-4 is peft's usual start).
    learning_rate: float = 1.0e-4

    def check(self) -> None:
        if not 0 <= self.dropout < 1:
            self.fail("dropout", "must be in [0, 1)", self.dropout)


@dataclass(frozen=True)
class PackingSettings(Settings):
    """Several examples per row, isolated by restarting position ids (``training.packing``)."""

    SECTION = "training.packing"
    PIPELINE = TRAINING
    RULES = {
        "examples_per_row": POSITIVE_INT_OR_NULL,
        "max_tokens_per_row": POSITIVE_INT_OR_NULL,
    }

    #: Pack examples into rows; false: one padded example per row.
    enabled: bool = True
    #: Close a row after this many examples (null: no limit).
    examples_per_row: int | None = 4
    #: Close a row before it exceeds this many tokens (null: no limit). GPU: e.g. 2048.
    max_tokens_per_row: int | None = None

    def check(self) -> None:
        if self.enabled and self.examples_per_row is None and self.max_tokens_per_row is None:
            self.fail("", "needs examples_per_row and/or max_tokens_per_row to pack examples")


@dataclass(frozen=True)
class ChunkedLossSettings(Settings):
    """Cross-entropy a chunk of positions at a time, logits recomputed in backward
    (``training.chunked_loss``; see ``pipelines/training/chunked_loss.py``)."""

    SECTION = "training.chunked_loss"
    PIPELINE = TRAINING
    RULES = {"chunk_tokens": POSITIVE_INT}

    #: Use the chunked loss; false: the model's own loss.
    enabled: bool = True
    #: Positions per chunk.
    chunk_tokens: int = 4096


@dataclass(frozen=True)
class TrainingSettings(Settings):
    """Everything ``fine_tune`` reads (``params:training``).

    Build it with ``TrainingSettings.from_params(params["training"], where="training")``:
    unknown keys and unusable values fail naming the full key (``training.lora.rnk: unknown key
    (training pipeline; known: ...)``); keys left out take the defaults.
    ``training.trainer`` may hold any ``TrainingArguments`` field (see :class:`TrainerSettings`).
    """

    SECTION = "training"
    PIPELINE = TRAINING
    RULES = {
        "early_stopping_patience": NON_NEGATIVE_INT_OR_NULL,
        "torch_threads": NON_NEGATIVE_INT_OR_NULL,
        "attn_implementation": rule(
            (
                lambda v: v is None or v in ATTENTION_IMPLEMENTATIONS,
                f"one of {', '.join(ATTENTION_IMPLEMENTATIONS)} or null",
            )
        ),
    }

    #: Tokenization of the question/answer pairs.
    tokenization: TokenizationSettings = field(default_factory=TokenizationSettings)
    #: Hugging Face TrainingArguments, defaults from the walkthrough unless noted. Any other
    #: TrainingArguments field may be added; every key and value is checked by TrainingArguments
    #: before a training run starts.
    trainer: TrainerSettings = field(default_factory=TrainerSettings)
    #: Stop after this many evaluations without eval-loss improvement; null (or 0) disables it.
    early_stopping_patience: int | None = None
    #: LoRA via peft instead of full fine-tuning; merged into the base weights when saved, so
    #: evaluation loads one model.
    lora: LoraSettings = field(default_factory=LoraSettings)
    #: Packing: several examples share one row, isolated by restarting position ids (no
    #: attention across examples; same loss and gradients as one by one), so no compute is
    #: spent on padding.
    packing: PackingSettings = field(default_factory=PackingSettings)
    #: Cross-entropy computed chunk_tokens positions at a time, logits recomputed in backward:
    #: never materialises tokens x vocabulary fp32 logits (the memory limit of big token budgets
    #: on GPUs), and projects only labelled (answer) positions onto the vocabulary: same loss,
    #: ~5% faster on a 2-core CPU (benchmarks/train_throughput.py). It applies
    #: trainer.label_smoothing_factor and refuses the Trainer loss options it would bypass.
    chunked_loss: ChunkedLossSettings = field(default_factory=ChunkedLossSettings)
    #: Trainer checkpoints, one folder per (parameters, base model, data): a rerun resumes
    #: there.
    checkpoint_dir: str = "data/06_models/checkpoints"
    #: CPU threads for torch; null (or 0) keeps torch's default (all cores).
    torch_threads: int | None = None
    #: Attention kernels while training: sdpa, eager, or flex_attention (a block mask from the
    #: packed position ids, so blocks across examples are skipped; CUDA only: no CPU backward).
    #: null: the model's own (sdpa). benchmarks/gpu_suite.py measures them side by side.
    attn_implementation: str | None = None

    def check_device(self, device_type: str) -> None:
        """Fail on settings the device cannot train with (before any model is loaded)."""
        if self.attn_implementation == "flex_attention" and device_type != "cuda":
            raise SettingsError(
                f"training.attn_implementation: flex_attention has no backward on {device_type} "
                f"(PyTorch's FlexAttention); use sdpa or eager ({TRAINING} pipeline)"
            )

    @property
    def effective_learning_rate(self) -> float:
        """The learning rate the Trainer uses: ``lora.learning_rate`` when LoRA is on (adapters
        train with a larger one), else ``trainer.learning_rate``."""
        return self.lora.learning_rate if self.lora.enabled else self.trainer.learning_rate

    @property
    def chunk_tokens(self) -> int | None:
        """Positions per loss chunk, None for the model's own loss."""
        return self.chunked_loss.chunk_tokens if self.chunked_loss.enabled else None

    def trainer_kwargs(self) -> dict[str, Any]:
        """The ``TrainingArguments`` keywords of ``training.trainer`` (its extra keys included),
        with :attr:`effective_learning_rate` as the learning rate."""
        return {**self.trainer.to_dict(), "learning_rate": self.effective_learning_rate}
