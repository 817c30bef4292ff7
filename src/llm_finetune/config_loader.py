"""Kedro's OmegaConfigLoader with environments that build on another environment.

Kedro applies one run environment on top of ``base``. Some of ours are variations of another:
``hub`` is the ``walkthrough`` setup with the online data and model. Writing the shared settings
in both folders would copy them; instead ``env_parents`` declares ``{"hub": "walkthrough"}`` and
``--env hub`` reads ``base``, then ``walkthrough``, then ``hub``, each merged over the previous
with the project's merge strategy (soft for parameters: only the keys a layer writes change).
"""

from __future__ import annotations

from typing import Any

from kedro.config import OmegaConfigLoader


class LayeredConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` plus ``env_parents``: run environment -> the environment it extends.

    Example (``settings.py``)::

        CONFIG_LOADER_CLASS = LayeredConfigLoader
        CONFIG_LOADER_ARGS = {"base_env": "base", "env_parents": {"hub": "walkthrough"}}
    """

    def __init__(self, *args: Any, env_parents: dict[str, str] | None = None, **kwargs: Any):
        self.env_parents = dict(env_parents or {})
        super().__init__(*args, **kwargs)
        for env in self.env_parents:
            self._chain(env)  # a cycle or a parent named base fails here, not mid-run

    def _chain(self, env: str) -> list[str]:
        """``env``'s ancestors, nearest first (base excluded)."""
        chain: list[str] = []
        parent = self.env_parents.get(env)
        while parent is not None:
            if parent == self.base_env or parent in chain or parent == env:
                raise ValueError(
                    f"env_parents: environment '{env}' extends '{parent}', which is the base "
                    f"environment or already in its chain {[env, *chain]}"
                )
            chain.append(parent)
            parent = self.env_parents.get(parent)
        return chain

    def __getitem__(self, key: str) -> dict[str, Any]:
        run_env = self.env or self.default_run_env
        parent = self.env_parents.get(run_env)
        if parent is None or key in self.data or key not in self.config_patterns:
            return super().__getitem__(key)
        inherited = self._loader_for(parent)[key]
        env_path = self._get_conf_env_path(run_env)
        own_files = self._read_dir_configs(
            env_path, [*self.config_patterns[key]], key, set(), key == "credentials"
        )
        own = self._merge_and_resolve(key, own_files)
        return self._merge_configs(inherited, own, key, env_path)

    def _loader_for(self, env: str) -> LayeredConfigLoader:
        """The same loader, run in ``env`` (which resolves its own parents in turn)."""
        return type(self)(
            conf_source=self.conf_source,
            env=env,
            runtime_params=self.runtime_params,
            config_patterns=self.config_patterns,
            base_env=self.base_env,
            default_run_env=self.default_run_env,
            custom_resolvers=self._custom_resolvers,
            merge_strategy=self.merge_strategy,
            ignore_hidden=self.ignore_hidden,
            env_parents=self.env_parents,
        )
