"""Kedro project settings."""

from llm_finetune.config_loader import LayeredConfigLoader
from llm_finetune.distributed import RankZeroDataCatalog
from llm_finetune.hooks import ExperimentTracking
from llm_finetune.parameter_checks import ParameterChecks
from llm_finetune.run_parameters import RunParameters
from llm_finetune.run_versions import RunVersions

CONFIG_LOADER_CLASS = LayeredConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # --env hub: the walkthrough's settings (conf/walkthrough) with the online data and model.
    "env_parents": {"hub": "walkthrough"},
    # Without "soft", an environment override (conf/hub, conf/local) replaces whole
    # parameter blocks (and whole sections of mlflow.yml).
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
}

# kedro-mlflow registers its hooks on install; experiment tracking is configured explicitly
# (see HOOKS) rather than by whatever plugin happens to be installed.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow", "kedro_mlflow")

# Every `kedro run` is an MLflow run: kedro-mlflow's hook, set up only when a pipeline runs with
# tracking on (conf/base/mlflow.yml; LLM_FINETUNE_TRACKING=off disables it; rank 0 only).
# Bad settings fail before any node runs (and so before any model is loaded).
# RunParameters: the sweep's configurations come from the run's parameters (--env, --params).
# RunVersions: each run reads the versions it saved and those its inputs had when it started, so
# runs started side by side never read each other's outputs (run first: the others see the pins).
HOOKS = (RunVersions(), RunParameters(), ParameterChecks(), ExperimentTracking())

# Under torchrun / accelerate launch every process runs the pipeline; only rank 0 saves catalog
# outputs, the other ranks keep them in memory for their downstream nodes.
DATA_CATALOG_CLASS = RankZeroDataCatalog
