"""The project's ``Trainer``: the HF Trainer plus an exact real-token count and an optional
chunked loss (``chunked_loss.py``). Its ``TrainingArguments`` come from
:func:`llm_finetune.config.trainer_arguments.training_arguments`."""

from __future__ import annotations

from llm_finetune.pipelines.training.chunked_loss import (
    chunked_causal_lm_loss,
    final_hidden_states,
)
from llm_finetune.pipelines.training.packing import COUNTS


def make_trainer_class(chunk_tokens: int | None = None) -> type:
    """A ``transformers.Trainer`` subclass (imported lazily: transformers is slow to import).

    ``trained_counts`` sums the collator's counts (real tokens, examples, squared example lengths)
    over the batches this process actually trained on (batches the DataLoader fetched ahead but
    never trained are not counted).
    With ``chunk_tokens``, the loss is computed that many positions at a time, with the
    arguments' ``label_smoothing_factor`` (the loss options it does not apply are refused when the
    arguments are built: ``config/trainer_arguments.py``).
    """
    from transformers import Trainer

    class ProjectTrainer(Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.trained_counts = dict.fromkeys(COUNTS, 0)

        def training_step(self, model, inputs, num_items_in_batch=None):
            for name in COUNTS:
                self.trained_counts[name] += int(inputs.pop(name, 0))
            return super().training_step(model, inputs, num_items_in_batch)

        def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
            for name in COUNTS:
                inputs.pop(name, None)
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if not chunk_tokens:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            inputs = dict(inputs)
            labels = inputs.pop("labels")
            hidden = final_hidden_states(model, inputs)
            head = self.accelerator.unwrap_model(model).get_output_embeddings()
            smoothing = self.args.label_smoothing_factor
            total, count = chunked_causal_lm_loss(hidden, head, labels, chunk_tokens, smoothing)
            # Like the HF loss: the mean over the labelled tokens of the whole accumulated batch.
            denominator = count if num_items_in_batch is None else num_items_in_batch
            loss = total / denominator
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                # num_items_in_batch counts every process's tokens and DDP averages gradients over
                # processes: scale back up, exactly as Trainer.compute_loss does.
                loss = loss * (self.accelerator.num_processes // self.get_tp_size())
            # Evaluation asks for outputs: no logits exist, by design.
            return (loss, {"loss": loss}) if return_outputs else loss

    return ProjectTrainer
