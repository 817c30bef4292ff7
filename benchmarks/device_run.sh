#!/usr/bin/env bash
# The GPU suite on the lent H200 in one device-tool call, from the bundle that
# benchmarks/device_bundle.py builds here (it prints the call):
#   run(command="bash benchmarks/device_run.sh", carry=[".device"], timeout_s=590)
# Unpacks the bundle, checks the image (Python, CUDA, imports), then runs the suite (one process per
# model, each with its own limit) and, in the time left, the --epoch stretch; logs land in $OUT.
# DEVICE_RUN_DRY=1: the same steps, dry runs on the CPU (device_bundle.py --verify rehearses it on
# a simulated image).
set -uo pipefail
SECONDS=0
BUNDLE=${BUNDLE:-.device/bundle.tar.xz}
OUT=${OUT:-/tmp/device_out}
WORK=${DEVICE_WORK:-/tmp/llm_finetune_device}
TOTAL_S=${TOTAL_S:-575}      # inside the call's timeout_s, so the logs always come back
BASE_S=${BASE_S:-260}        # the suite, one process per model (the issue's budget: 8 minutes)
PYTHIA_S=${PYTHIA_S:-160}
EPOCH_MIN_S=${EPOCH_MIN_S:-120}
DRY=${DEVICE_RUN_DRY:-0}
mkdir -p "$OUT" "$WORK"

if [ ! -f "$BUNDLE" ]; then
  echo "no $BUNDLE: build it here with .venv/bin/python benchmarks/device_bundle.py and carry .device" >&2
  exit 2
fi
python3 - "$BUNDLE" "$WORK" <<'EOF' || exit 2
import json, sys, tarfile
bundle, work = sys.argv[1:]
with tarfile.open(bundle) as archive:
    archive.extractall(work, filter="data")
manifest = json.load(open(f"{work}/manifest.json"))
here = f"{sys.version_info.major}.{sys.version_info.minor}"
if manifest["python"] != here:
    sys.exit(f"{bundle} was built for Python {manifest['python']}; python3 here is {here}: "
             f"rebuild with benchmarks/device_bundle.py --python {here}")
print(f"bundle of {manifest['built']} (HEAD {manifest['git_head'][:8]}), "
      f"{len(manifest['carried'])} distributions carried")
EOF
MODEL_DIR=$(python3 -c 'import json,sys; print(sys.argv[1] + "/" + json.load(open(sys.argv[1] + "/manifest.json"))["base_model"])' "$WORK")
export PYTHONPATH="$WORK/site:$PWD/src" PYTHONUNBUFFERED=1 DO_NOT_TRACK=1 KEDRO_DISABLE_TELEMETRY=1
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export LLM_FINETUNE_REAL_ROWS=$(python3 -c 'import json,sys; print(sys.argv[1] + "/" + json.load(open(sys.argv[1] + "/manifest.json"))["real_rows"])' "$WORK")

# Preflight: versions, the GPU, and every import the suite makes, before any timed work.
python3 - "$DRY" "$MODEL_DIR" <<'EOF' 2>&1 | tee "$OUT/preflight.log"
import importlib.metadata, platform, shutil, sys
import torch
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA available "
      f"{torch.cuda.is_available()}" + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
for name in ("transformers", "tokenizers", "huggingface-hub", "accelerate", "peft", "kedro",
             "polars", "numpy", "triton", "liger-kernel"):
    try:
        print(f"  {name} {importlib.metadata.version(name)}")
    except importlib.metadata.PackageNotFoundError:
        print(f"  {name} MISSING")
# Triton (torch.compile, FlexAttention, Liger) builds its launchers with the C compiler.
print(f"  C compiler: {shutil.which('cc') or shutil.which('gcc') or 'MISSING (fast paths will fail)'}")
import kedro, polars, transformers, peft  # noqa: F401  what the suite imports first
import llm_finetune.pipelines.training.packing  # noqa: F401
from transformers import AutoConfig, AutoTokenizer
config = AutoConfig.from_pretrained(sys.argv[2], local_files_only=True)
tokenizer = AutoTokenizer.from_pretrained(sys.argv[2], local_files_only=True)
print(f"base model {sys.argv[2]}: {config.model_type}, {config.num_hidden_layers} layers, "
      f"vocabulary {len(tokenizer):,}")
if sys.argv[1] != "1" and not torch.cuda.is_available():
    sys.exit("no CUDA device: the suite would measure the CPU")
EOF
[ "${PIPESTATUS[0]}" = 0 ] || { echo "preflight failed (above): nothing timed was run"; exit 3; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv

dry=(); [ "$DRY" = 1 ] && dry=(--dry-run)
suite_rc=0
for step in "base $BASE_S" "pythia-70m $PYTHIA_S"; do
  set -- $step
  left=$((TOTAL_S - EPOCH_MIN_S - SECONDS)); limit=$(( $2 < left ? $2 : left ))
  if [ "$limit" -lt 30 ]; then echo "== gpu_suite --models $1 skipped: ${left} s left"; suite_rc=1; continue; fi
  echo "== gpu_suite --models $1 (limit ${limit} s)"
  timeout "$limit" python3 benchmarks/gpu_suite.py "${dry[@]}" --models "$1" --base-model "$MODEL_DIR" 2>&1 | tee "$OUT/gpu_suite_$1.log"
  rc=${PIPESTATUS[0]}; [ "$rc" = 0 ] || suite_rc=$rc
done
# The epoch trains with the fastest variant that passed its checks on the base model, if any.
variant=$(sed -n 's/^device=.* fastest=\(full[a-z_]*\) .*/\1/p' "$OUT/gpu_suite_base.log" 2>/dev/null | tail -n 1)
left=$((TOTAL_S - SECONDS))
if [ "$left" -ge "$EPOCH_MIN_S" ]; then
  echo "== gpu_suite --epoch --epoch-variant ${variant:-auto} (limit ${left} s)"
  timeout "$left" python3 benchmarks/gpu_suite.py "${dry[@]}" --epoch --epoch-variant "${variant:-auto}" --base-model "$MODEL_DIR" 2>&1 | tee "$OUT/gpu_epoch.log"
  epoch_rc=${PIPESTATUS[0]}
else
  echo "== gpu_suite --epoch skipped: ${left} s left (needs ${EPOCH_MIN_S})"
  epoch_rc=skipped
fi
echo "== machine-readable lines"
grep -h '^device=\|^FAILED device=' "$OUT"/gpu_suite_*.log "$OUT/gpu_epoch.log" 2>/dev/null
echo "device_run: suite_rc=$suite_rc epoch_rc=$epoch_rc wall_s=$SECONDS (124 = stopped at its limit)"
[ "$suite_rc" = 0 ]
