"""Trainer callbacks."""

import time

from transformers import ProgressCallback, TrainerCallback


class LossProgressCallback(ProgressCallback):
    """A progress bar that shows the latest loss and learning rate instead of printing dicts."""

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            from tqdm.auto import tqdm

            self.training_bar = tqdm(total=state.max_steps, desc="fine-tuning", dynamic_ncols=True)
        self.current_step = 0

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.training_bar is None or not logs:
            return
        shown = {key: logs[key] for key in ("loss", "eval_loss", "learning_rate") if key in logs}
        if shown:
            self.training_bar.set_postfix(
                {key: f"{value:.4g}" for key, value in shown.items()}, refresh=True
            )


class StepTimer(TrainerCallback):
    """Wall time spent in optimizer steps alone (evaluation and checkpointing excluded)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started: float | None = None

    def on_step_begin(self, args, state, control, **kwargs):
        self._started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None
