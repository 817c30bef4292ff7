"""Every kedro-viz node leads to its code in one hop: the node's name (after its namespace) is the
name of the importable function it runs."""

from __future__ import annotations

import importlib

from llm_finetune.pipeline_registry import register_pipelines


def test_node_names_are_the_importable_functions_they_run():
    mismatched = []
    for pipeline_name, pipe in register_pipelines().items():
        for node in pipe.nodes:
            module = importlib.import_module(node.func.__module__)
            short_name = node.name.rsplit(".", 1)[-1]
            if short_name != node.func.__name__ or getattr(module, short_name, None) is not (
                node.func
            ):
                mismatched.append((pipeline_name, node.name, node.func.__qualname__))
    assert not mismatched
