"""Project dataset classes for the Kedro catalog."""

from llm_finetune.datasets.hf_model import HFModelDataset
from llm_finetune.datasets.model_dirs import ModelAndTokenizer, make_serializable
from llm_finetune.datasets.pretrained_model import PretrainedModelDataset
from llm_finetune.datasets.raw_dialogues import HubDialoguesDataset, RawDialoguesDataset
from llm_finetune.datasets.source_wheel import SourceWheelDataset
from llm_finetune.datasets.votes import VotesDataset

__all__ = [
    "HFModelDataset",
    "HubDialoguesDataset",
    "ModelAndTokenizer",
    "PretrainedModelDataset",
    "RawDialoguesDataset",
    "SourceWheelDataset",
    "VotesDataset",
    "make_serializable",
]
