"""Time the benchmarks pipeline as a user runs it: ``kedro run --pipelines benchmarks`` (base vs
the latest fine-tuned model on MMLU medical, MedMCQA, MedQA, ARC-Challenge and HellaSwag), in this
process, node by node, and the tokens the harness scores per task.

    .venv/bin/python benchmarks/standard_benchmarks.py                    # the CPU default
    .venv/bin/python benchmarks/standard_benchmarks.py --env gpu          # every question
    .venv/bin/python benchmarks/standard_benchmarks.py --params benchmarks.question_limit=200

Target (issue 18): the CPU default scores both models in <= 20 minutes on the 2-core CPU. Nothing
else may run meanwhile. Prints a table per node and per task, the results of the run, and a
machine-readable last line.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from common import ROOT
from kedro.framework.hooks import hook_impl

TARGET_SECONDS = 20 * 60


class NodeTimer:
    """A Kedro hook recording each node's wall time (loading its inputs included)."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        self.started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        self.seconds[node.name] = time.perf_counter() - self.started[node.name]


def scored_tokens(plan: dict[str, Any], tokenizer: Any) -> dict[str, int]:
    """About the tokens the harness runs through the model per task: one forward pass of prompt +
    option per option (cloze), one per question (letter form: the options are single tokens and
    share the prompt). Few-shot examples count as prompt."""
    import tempfile
    from pathlib import Path

    import jinja2

    from llm_finetune.benchmark_tasks import TASKS
    from llm_finetune.pipelines.benchmarks.scoring import harness_configs

    counts = {}
    for name, planned in plan["tasks"].items():
        task = TASKS[name]
        template = jinja2.Template(task.prompt)
        shots_tokens: dict[Any, int] = {}
        if task.shots:
            with tempfile.TemporaryDirectory() as folder:
                for config in harness_configs(
                    task, planned["questions"], planned["fewshot"], Path(folder)
                ):
                    subject = config["task"].split("__", 1)[1]
                    shots = [row for row in planned["fewshot"] if row["subject"] == subject][
                        : task.shots
                    ]
                    text = config["description"] + "".join(
                        template.render(**row) + " " + "ABCDE"[row["gold"]] + "\n\n"
                        for row in shots
                    )
                    shots_tokens[subject] = len(tokenizer(text)["input_ids"])
        total = 0
        for row in planned["questions"]:
            prompt = len(tokenizer(template.render(**row))["input_ids"])
            prompt += shots_tokens.get(row["subject"], 0)
            if task.form == "letter":
                total += prompt + 1
            else:
                total += sum(prompt + len(tokenizer(" " + c)["input_ids"]) for c in row["choices"])
        counts[name] = total
    return counts


def run(env: str | None, params: str | None) -> dict[str, Any]:
    """One ``kedro run --pipelines benchmarks`` in this process, each node timed."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from omegaconf import OmegaConf

    bootstrap_project(ROOT)
    runtime = OmegaConf.to_container(OmegaConf.from_dotlist(params.split(","))) if params else {}
    timer = NodeTimer()
    with KedroSession.create(project_path=ROOT, env=env, runtime_params=runtime) as session:
        session._hook_manager.register(timer)
        started = time.perf_counter()
        session.run(pipeline_names=["benchmarks"])
        total = time.perf_counter() - started
        catalog = session.load_context().catalog
        plan = catalog.load("benchmark_plan")
        results = catalog.load("benchmark_results")
        tokenizer = catalog.load("base_tokenizer")
    return {
        "total": total,
        "nodes": timer.seconds,
        "results": results,
        "tokens": scored_tokens(plan, tokenizer),
    }


def report(measured: dict[str, Any]) -> None:
    """The tables and the machine-readable last line."""
    total, nodes, results, tokens = (measured[k] for k in ("total", "nodes", "results", "tokens"))
    print(f"\nbenchmarks pipeline, question_limit={results['question_limit']}")
    print(f"{'node':36s} {'seconds':>9s}")
    for name, seconds in nodes.items():
        print(f"{name:36s} {seconds:9.1f}")
    verdict = "met" if total <= TARGET_SECONDS else "MISSED"
    print(f"{'total (both models)':36s} {total:9.1f}  target <= {TARGET_SECONDS} s: {verdict}")
    scoring = sum(nodes.get(f"score_{m}_model_benchmarks", 0.0) for m in ("base", "fine_tuned"))
    print(
        f"\n{'task':20s} {'questions':>9s} {'tokens/model':>13s} {'primary':>9s} "
        f"{'base':>6s} {'tuned':>6s} {'diff [95% CI]':>22s}"
    )
    for name, task in results["tasks"].items():
        metric = task["primary"]
        d = task["difference"][metric]
        print(
            f"{name:20s} {task['questions']:9d} {tokens[name]:13d} {metric:>9s} "
            f"{task['base'][metric]:6.3f} {task['fine_tuned'][metric]:6.3f} "
            f"{d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"
        )
    all_tokens = sum(tokens.values())
    print(
        f"\nscored tokens per model: {all_tokens}; both models: "
        f"{2 * all_tokens / scoring:.0f} tokens/s through the harness"
    )
    summary = {
        "benchmark": "standard_benchmarks",
        "question_limit": results["question_limit"],
        "total_seconds": round(total, 1),
        "scoring_seconds": round(scoring, 1),
        "node_seconds": {k: round(v, 1) for k, v in nodes.items()},
        "tokens_per_model": tokens,
        "target_met": total <= TARGET_SECONDS,
    }
    print(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None)
    parser.add_argument("--params", default=None, help="as kedro run --params a.b=1,c=2")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    report(run(args.env, args.params))


if __name__ == "__main__":
    main()
