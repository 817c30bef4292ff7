"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Without "soft", an environment override (conf/hub, conf/local) replaces whole
    # parameter blocks.
    "merge_strategy": {"parameters": "soft"},
}

# kedro-mlflow registers its hooks on install; experiment tracking is configured explicitly
# (see HOOKS) rather than by whatever plugin happens to be installed.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow", "kedro_mlflow")
