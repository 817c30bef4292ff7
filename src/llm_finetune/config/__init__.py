"""Typed settings per concern, built from the parameters at the node boundary.

Each class is a frozen dataclass whose fields have a default and a doc
comment; ``Cls.from_params(params_block, where=...)`` builds and checks it, failing with a
:class:`SettingsError` (a ``ValueError``) that names the full key and the pipeline::

    training.lora.rnk: unknown key (training pipeline; known: enabled, r, alpha, ...)
    training.lora.r must be a positive integer, got 0 (training pipeline)

``to_dict()`` gives the block back in the parameters' layout. The classes are the one source of
the defaults: conf/base/parameters_*.yml is generated from them, each field's ``#:`` doc as its
comment (``python -m llm_finetune.config write-defaults``; a test fails when the two differ).
Importing this package is cheap (no torch, no transformers); the ``training.trainer`` keys are
checked by Hugging Face ``TrainingArguments`` in ``config/trainer_arguments.py``, which imports
transformers when called.
"""

from llm_finetune.config.base import Settings, SettingsError
from llm_finetune.config.benchmarks import BenchmarksSettings
from llm_finetune.config.cross_validation import CrossValidationSettings
from llm_finetune.config.data_engineering import DataEngineeringSettings
from llm_finetune.config.evaluation import EvaluationSettings
from llm_finetune.config.generation import GenerationSettings
from llm_finetune.config.human_evaluation import HumanEvaluationSettings
from llm_finetune.config.sizing import (
    GpuSettings,
    InfrastructureSizingSettings,
    SizedModelSettings,
)
from llm_finetune.config.sweep import SweepSettings
from llm_finetune.config.training import (
    ChunkedLossSettings,
    LoraSettings,
    PackingSettings,
    TokenizationSettings,
    TrainerSettings,
    TrainingSettings,
)

__all__ = [
    "BenchmarksSettings",
    "ChunkedLossSettings",
    "CrossValidationSettings",
    "DataEngineeringSettings",
    "EvaluationSettings",
    "GenerationSettings",
    "GpuSettings",
    "HumanEvaluationSettings",
    "InfrastructureSizingSettings",
    "LoraSettings",
    "PackingSettings",
    "Settings",
    "SettingsError",
    "SizedModelSettings",
    "SweepSettings",
    "TokenizationSettings",
    "TrainerSettings",
    "TrainingSettings",
]
