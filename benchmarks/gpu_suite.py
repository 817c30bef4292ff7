"""GPU suite: the GPU path proven in one command (correctness on the device, training and
generation throughput, memory, MFU), for a machine that has a GPU for a few minutes.

    .venv/bin/python benchmarks/gpu_suite.py            # on a GPU machine (<= 8 min on an H200)
    .venv/bin/python benchmarks/gpu_suite.py --dry-run  # the same code path on the CPU, tiny models
    bash benchmarks/device_run.sh                       # on the lent H200 (see device_bundle.py)

For each model (SmolLM2-135M with its real weights through ``load_base_model``, or from
``--base-model DIR``, which without weights gives the architecture random-init; and the pythia-70m
architecture, GPT-NeoX, random init; ``--dry-run``: a tiny Llama and a tiny GPT-NeoX built here
from configs, with a tokenizer trained on the real rows), on the real rows of ``../shared/data``
(``LLM_FINETUNE_REAL_ROWS`` elsewhere):

1. Correctness on the device (model in fp32; bf16 = autocast, as in training). Packed rows
   (isolated by position ids, two rows of different lengths, so with a padding segment) against
   every example alone; the chunked loss against the model's own loss; FlexAttention,
   ``torch.compile`` and Liger-Kernel (fused linear cross-entropy, RMSNorm, RoPE, SwiGLU; Llama
   only) against plain eager. ``loss_rel`` = |loss - reference| / |reference|, ``grad_rel`` =
   max |grad - reference| / max |reference| over all parameters. Tolerances in :data:`TOLERANCES`.
2. Training throughput, real (non-padding) tokens/s of timed optimizer steps after a warm-up
   (``timed_training.timed_steps``): ``walkthrough`` (batch 1, grad-accum 4, attention mask,
   Adafactor, fp32) vs ``full`` (the ``--env gpu`` setup: token-budget packed rows, chunked loss,
   fused AdamW, bf16 where the device runs it fast; attention: the default SDPA, isolated by
   position ids) vs ``lora`` (the same with the configured adapters), and where available the
   fast paths, each isolated per example and checked against plain eager first
   (:data:`FAST_PATH_CHECKS`): ``full_flex`` (FlexAttention: a block mask from the packed position
   ids, so blocks across examples are skipped; CUDA only, it has no CPU backward), ``full_compile``
   (torch.compile), both on rows padded to the budget so shapes are fixed, and ``full_liger``
   (Liger kernels; the fused loss replaces the chunked loss); measured last, in that order, as
   Liger patches classes for good.
   Peak memory per variant (``PeakMemory``). MFU = real tokens/s x training FLOPs per token
   (``accounting.training_flops``: 6·N plus the attention term; LoRA two thirds of it) / the dense
   bf16 spec peak of the GPU (``common.GPU_BF16_PEAKS``), or on a CPU / unknown GPU the measured
   GEMM peak at the model's shapes. ``fastest`` is the fastest full-setup variant whose correctness
   check passed.
3. Evaluation generation: ``generate_answers`` one prompt at a time vs batched, greedy; identical
   outputs and answers/s.

The last lines are machine-readable, one per model:
``device=... model=... seed_tok_s=... full_tok_s=... lora_tok_s=... speedup=... mfu=...`` (more
keys after). Exit status 1 when a packed or chunked check fails (an optional fast path that fails
is reported and left out of ``fastest``, without failing the suite).

``--epoch`` (instead of the above): one training epoch end to end, timed per phase against the
3-minute target. Builds 256,916 raw rows (``--epoch-rows``) from the real rows, each made distinct
(:func:`build_distinct_input`); runs the data_engineering nodes with the ``conf/base`` parameters
to the templated train split; ``tokenize_qa`` (``--tokenize-workers`` processes); packs
the ``--env gpu`` token-budget rows; loads the model; runs the packed and chunked checks (and the
fast path's, ``--epoch-variant``); trains every packed row once through the training pipeline's own
code (its typed settings of ``--env gpu``, packing and Trainer with the chunked loss:
``gpu/epoch_train.py``); saves with ``save_model_atomically`` (``--epoch-output`` or a
temporary directory) and checks that the directory loads. Last line:
``device=... epoch_rows=... epoch_tokens=... epoch_s=... train_tok_s=... target_s=180 met=...``
(epoch_rows / epoch_tokens: the train split's examples and their tokens; epoch_s: all phases).
``--dry-run --epoch``: 2,000 rows, the tiny Llama, 1 thread, ``met`` always False.

The code lives in rooms under ``benchmarks/gpu/`` (see its ``__init__``); this file is the entry
point and keeps the command line.
"""

from __future__ import annotations

import sys

from gpu.cli import main

if __name__ == "__main__":
    sys.exit(main(__doc__.splitlines()[0]))
