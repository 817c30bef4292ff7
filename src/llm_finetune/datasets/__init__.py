"""Project dataset classes for the Kedro catalog."""

from llm_finetune.datasets.raw_dialogues import RawDialoguesDataset

__all__ = ["RawDialoguesDataset"]
