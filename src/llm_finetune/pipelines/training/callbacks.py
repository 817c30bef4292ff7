"""Trainer callbacks."""

from transformers import ProgressCallback


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
