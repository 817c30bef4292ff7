"""Project dataset classes for the Kedro catalog."""

from llm_finetune.datasets.hf_model import (
    HFModelDataset,
    ModelAndTokenizer,
    PretrainedModelDataset,
    make_serializable,
)
from llm_finetune.datasets.raw_dialogues import HubDialoguesDataset, RawDialoguesDataset

__all__ = [
    "HFModelDataset",
    "HubDialoguesDataset",
    "ModelAndTokenizer",
    "PretrainedModelDataset",
    "RawDialoguesDataset",
    "make_serializable",
]
