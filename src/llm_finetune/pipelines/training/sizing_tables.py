"""The infrastructure sizing for people: models as rows, as an HTML page and as Markdown (for the
README), with every assumption stated. The numbers are ``infrastructure_sizing``'s (sizing.py).
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from llm_finetune.pipelines.training.sizing import METHODS
from llm_finetune.pipelines.training.sizing_inputs import GpuOption, check_sizing_settings

Table = tuple[str, str, list[str], list[list[str]]]  # title, intro, header, rows
_MISSING = "—"


def render_infrastructure_sizing(
    infrastructure_sizing: pd.DataFrame, sizing_settings: dict[str, Any]
) -> tuple[str, str]:
    """The sizing as an HTML page and as Markdown: memory to serve, memory to fine-tune, hours to
    train, the GPUs, where each count comes from, and the assumptions."""
    settings = check_sizing_settings(sizing_settings)
    tables = sizing_tables(infrastructure_sizing, settings)
    notes = assumptions(settings)
    return _html(tables, notes), _markdown(tables, notes)


def sizing_tables(frame: pd.DataFrame, settings: dict[str, Any]) -> list[Table]:
    """The readable tables, models as rows (the frame may be the CSV read back: blanks are NaN)."""
    models = list(dict.fromkeys(frame["model"]))
    gpus: list[GpuOption] = settings["gpus"]
    serve = [m for m in METHODS if m.workload == "serve"]
    tune = [m for m in METHODS if m.workload == "fine_tune"]
    tokens = _count(settings["training_tokens"])
    mfu = f"{settings['utilisation']:.0%}"
    return [
        (
            "Memory to serve, and the smallest GPU that holds it",
            "Weights at each precision × the overhead factor.",
            ["Model", "Parameters", *(m.label for m in serve)],
            [_memory_row(frame, model, serve) for model in models],
        ),
        (
            "Memory to fine-tune, and the smallest GPU that holds it",
            "Weights, gradients and optimizer state × the overhead factor.",
            ["Model", "Parameters", *(m.label for m in tune)],
            [_memory_row(frame, model, tune) for model in models],
        ),
        (
            f"Hours to train {tokens} tokens at {mfu} MFU",
            "With full fine-tuning (AdamW) where it fits; otherwise the method named, the first of "
            "full Adafactor, LoRA, QLoRA that fits. Blank: nothing fits.",
            ["Model", *(g.label for g in gpus)],
            [_hours_row(frame, model, gpus, tune) for model in models],
        ),
        (
            "GPUs",
            "Instances are examples only: names, availability and prices change.",
            ["GPU", "Memory (GB)", "Dense bf16 peak (TFLOPS per GPU)", "Example instances"],
            [_gpu_row(gpu) for gpu in gpus],
        ),
        (
            "Where each parameter count comes from",
            "",
            ["Model", "Parameters", "Source"],
            [_source_row(frame, model) for model in models],
        ),
    ]


def assumptions(settings: dict[str, Any]) -> list[str]:
    """Every assumption behind the numbers, with the settings' values."""
    fraction = settings["lora_trainable_fraction"]
    methods = [
        f"{m.label}: {m.frozen_bytes + m.adapter_bytes * fraction:.3g} B per parameter = "
        f"{m.assumption}."
        for m in METHODS
    ]
    return [
        "GB = 10^9 bytes; GPU memory as marketed (e.g. 80 GB), all of it usable.",
        f"Memory = parameters × bytes per parameter × {settings['overhead_factor']:g} (overhead "
        "factor: activations at a modest batch × sequence, a short KV cache when serving, the "
        "CUDA context, allocator fragmentation). Long contexts and large batches need more.",
        *methods,
        f"LoRA and QLoRA adapters: {fraction:.1%} of the model's parameters.",
        "4-bit and QLoRA count every weight at 4 bits; bitsandbytes keeps the embeddings and "
        "the output head in bf16, most of a small model's parameters, so for the small models "
        "those figures are too low.",
        "Smallest GPU: the option with the least total memory that holds the estimate; options "
        "with equal memory are all named. An 8-GPU node pools its memory (training sharded "
        "with FSDP / ZeRO-3, serving with tensor parallelism); copies per GPU and the "
        "interconnect are ignored. More than the largest node: multi-node, with the number of "
        "its GPUs needed.",
        "Training compute: 6·N·tokens for full fine-tuning (forward 2N + backward 4N FLOPs per "
        "token) and 4·N·tokens for LoRA and QLoRA (the backward pass still computes activation "
        "gradients through the frozen weights, 2N, but no weight gradients). N = all parameters, "
        "embeddings included (an overestimate for small models: a lookup costs no FLOPs). Not "
        "counted: attention's sequence-length term, activation recomputation (gradient "
        "checkpointing: +2N), QLoRA's dequantization (slower in practice).",
        f"Hours = training FLOPs / (GPUs × dense peak × {settings['utilisation']:.0%} MFU) / "
        f"3600, for {settings['training_tokens']:,.0f} tokens; the peak is the datasheet's "
        "dense (non-sparse) bf16 tensor-core figure per GPU (GPUs table, with notes).",
    ]


def _rows_of(frame: pd.DataFrame, model: str) -> pd.DataFrame:
    return frame[frame["model"] == model]


def _unavailable(rows: pd.DataFrame) -> str | None:
    notes = [n for n in rows["note"] if _present(n) and str(n).startswith("unavailable")]
    return str(notes[0]) if notes else None


def _memory_row(frame: pd.DataFrame, model: str, methods: list[Any]) -> list[str]:
    rows = _rows_of(frame, model)
    unavailable = _unavailable(rows)
    if unavailable:
        return [model, unavailable, *([_MISSING] * len(methods))]
    cells = [model, _count(rows["parameters"].iloc[0])]
    for method in methods:
        row = rows[rows["method"] == method.label].iloc[0]
        cells.append(f"{_gb(row['memory_gb'])} GB · {row['smallest_gpu']}")
    return cells


def _hours_row(
    frame: pd.DataFrame, model: str, gpus: list[GpuOption], methods: list[Any]
) -> list[str]:
    rows = _rows_of(frame, model)
    if _unavailable(rows):
        return [model, *([_MISSING] * len(gpus))]
    cells = [model]
    for gpu in gpus:
        column = f"train_hours_{gpu.key}"
        cell = ""
        for index, method in enumerate(methods):  # the most complete method that fits first
            hours = rows.loc[rows["method"] == method.label, column].iloc[0]
            if _present(hours):
                cell = _duration(hours) + ("" if index == 0 else f" ({method.label})")
                break
        cells.append(cell)
    return cells


def _gpu_row(gpu: GpuOption) -> list[str]:
    peak = f"{gpu.dense_tflops:g}" + (f" ({gpu.peak_note})" if gpu.peak_note else "")
    memory = f"{gpu.total_memory_gb:g}"
    if gpu.count > 1:
        memory += f" ({gpu.count} × {gpu.memory_gb:g})"
    return [gpu.label, memory, peak, "; ".join(gpu.instances)]


def _source_row(frame: pd.DataFrame, model: str) -> list[str]:
    row = _rows_of(frame, model).iloc[0]
    count = f"{int(row['parameters']):,}" if _present(row["parameters"]) else _MISSING
    source = row["parameters_source"] if _present(row["parameters_source"]) else ""
    return [model, count, str(source)]


def _present(value: Any) -> bool:
    return not (value is None or value is pd.NA or value == "" or pd.isna(value))


def _count(parameters: Any) -> str:
    value = float(parameters)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.0f}"


def _gb(value: float) -> str:
    if value < 0.01:
        return "<0.01"
    if value < 1:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{max(hours * 60, 1):.0f} min"
    return f"{hours:.1f} h" if hours < 100 else f"{hours:,.0f} h"


def _markdown(tables: list[Table], notes: list[str]) -> str:
    lines = ["## Training infrastructure", ""]
    for title, intro, header, rows in tables:
        lines += [f"### {title}", ""] + ([intro, ""] if intro else [])
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(" --- " for _ in header) + "|")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    lines += ["### Assumptions", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _html(tables: list[Table], notes: list[str]) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Training infrastructure</title>',
        "<style>body{font-family:sans-serif;margin:1.5em;max-width:110em}"
        "table{border-collapse:collapse;margin-bottom:1.5em}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
        "th{background:#f3f3f3}td.unavailable{color:#a00}</style></head><body>",
        "<h1>Training infrastructure</h1>",
    ]
    for title, intro, header, rows in tables:
        parts.append(f"<h2>{esc(title)}</h2>" + (f"<p>{esc(intro)}</p>" if intro else ""))
        parts.append("<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header))
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(_html_cell(cell) for cell in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("<h2>Assumptions</h2><ul>")
    parts += [f"<li>{esc(note)}</li>" for note in notes]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"


def _html_cell(cell: str) -> str:
    css = ' class="unavailable"' if cell.startswith("unavailable") else ""
    return f"<td{css}>{html.escape(cell)}</td>"
