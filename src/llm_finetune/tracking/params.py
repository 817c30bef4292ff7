"""The Kedro parameters each node reads, as MLflow parameters: kedro-mlflow's ``params`` settings
of mlflow.yml (flattening, long values), each parameter once per run.

Not kedro-mlflow's own ``MlflowHook.before_node_run``: kedro-mlflow 2.0.3 re-enters the run with
``mlflow.start_run(nested=True)`` at every node, which MLflow 3 stacks, leaving the run active
after ``kedro run`` ends (a later session in the same process then logs into it), and it writes
parameters one by one, again for every node that reads them. Its settings are read from its public
configuration (``MlflowHook.mlflow_config``) and names sanitised by its
``MlflowHook.sanitize_param_name``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kedro.io.core import is_parameter

from llm_finetune.tracking.records import flatten


class ParameterTooLong(ValueError):
    """A parameter over MLflow's length limit, with ``params.long_params_strategy: fail``."""


@dataclass
class NewParameters:
    """What to write for a node's parameters: parameters, and long values kept as tags."""

    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class NodeParameters:
    """The parameters of a run's nodes, each logged once (mlflow.yml ``params`` settings)."""

    def __init__(self, mlflow_hook: Any) -> None:
        settings = mlflow_hook.mlflow_config.tracking.params
        self._flatten = settings.dict_params.flatten
        self._recursive = settings.dict_params.recursive
        self._sep = settings.dict_params.sep
        self._long_values = settings.long_params_strategy  # "fail", "tag" or "truncate"
        self._sanitize: Callable[[str], str] = mlflow_hook.sanitize_param_name
        self._logged: set[str] = set()  # parameter inputs already logged in this run

    def new(self, inputs: dict[str, Any]) -> NewParameters:
        """The parameters among a node's ``inputs`` not logged yet in this run."""
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

        found = NewParameters()
        new = {name: value for name, value in inputs.items() if is_parameter(name)}
        new = {name: value for name, value in new.items() if name not in self._logged}
        if not new:
            return found
        self._logged.update(new)
        params = {name.removeprefix("params:"): value for name, value in new.items()}
        if self._flatten:
            params = flatten(params, recursive=self._recursive, sep=self._sep)
        for name, value in params.items():
            key, text = self._sanitize(name), str(value)
            if len(text) <= MAX_PARAM_VAL_LENGTH:
                found.params[key] = text
            elif self._long_values == "tag":
                found.tags[key] = text
            elif self._long_values == "truncate":
                found.params[key] = text[:MAX_PARAM_VAL_LENGTH]
            else:
                raise ParameterTooLong(
                    f"Parameter {name!r} is {len(text)} characters long, over MLflow's limit of "
                    f"{MAX_PARAM_VAL_LENGTH}; set params.long_params_strategy in mlflow.yml"
                )
        return found
