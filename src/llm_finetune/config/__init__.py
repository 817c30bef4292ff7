"""Typed settings per concern, built from the parameters at the node boundary.

Each class is a frozen dataclass whose fields have a default (conf/base's value) and a doc
comment; ``Cls.from_params(params_block, where=...)`` builds and checks it, failing with a
:class:`SettingsError` (a ``ValueError``) that names the full key and the pipeline::

    training.lora.rnk: unknown key (training pipeline; known: enabled, r, alpha, ...)
    training.lora.r must be a positive integer, got 0 (training pipeline)

``to_dict()`` gives the block back in the parameters' layout. Decoding settings are
:class:`GenerationSettings` (``config/generation.py``; its errors predate this package's format).
Importing this package is cheap (no torch, no
transformers); only :meth:`TrainerSettings.check_extra_keys` imports transformers.
"""

from llm_finetune.config.base import Settings, SettingsError
from llm_finetune.config.data_engineering import DataEngineeringSettings
from llm_finetune.config.evaluation import EvaluationSettings
from llm_finetune.config.generation import GenerationSettings
from llm_finetune.config.training import (
    ChunkedLossSettings,
    LoraSettings,
    PackingSettings,
    TokenizationSettings,
    TrainerSettings,
    TrainingSettings,
)

__all__ = [
    "ChunkedLossSettings",
    "DataEngineeringSettings",
    "EvaluationSettings",
    "GenerationSettings",
    "LoraSettings",
    "PackingSettings",
    "Settings",
    "SettingsError",
    "TokenizationSettings",
    "TrainerSettings",
    "TrainingSettings",
]
