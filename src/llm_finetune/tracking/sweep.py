"""The sweep's own records, beyond its catalog entries' tracking metadata: each configuration's
training settings (``training.*`` parameters) and overrides (tag ``sweep.overrides``) on its nested
run, and the best configuration (tag ``sweep.best_by_final_eval_loss``) on the sweep's run.

They come from the sweep's in-memory datasets (``sweep.<configuration>.training_params``,
``sweep.<configuration>.configuration``) and ``sweep_results``, named by the sweep's pipeline.
"""

from __future__ import annotations

import json
from typing import Any

from llm_finetune.tracking.records import flat_params
from llm_finetune.tracking.runs import Runs

MAX_OVERRIDES_CHARS = 5000  # of the sweep.overrides tag


def record_sweep_output(runs: Runs, dataset_name: str, data: Any) -> None:
    """What the sweep records of a saved dataset (nothing for the other datasets)."""
    name = dataset_name.rsplit(".", 1)[-1]
    run_id = runs.run_for(dataset_name)
    nested = run_id != runs.run_id
    if name == "training_params" and nested:
        runs.log_params(run_id, flat_params(data, "training"))
    elif name == "configuration" and nested:
        overrides = json.dumps(data.get("overrides") or {}, default=str, sort_keys=True)
        runs.set_tag(run_id, "sweep.overrides", overrides[:MAX_OVERRIDES_CHARS])
    elif name == "sweep_results" and len(data) and data["final_eval_loss"].notna().any():
        best = data.loc[data["final_eval_loss"].idxmin(), "configuration"]
        runs.set_tag(run_id, "sweep.best_by_final_eval_loss", str(best))
