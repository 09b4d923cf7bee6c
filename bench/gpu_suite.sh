#!/usr/bin/env bash
# Issue C2's GPU figures in one run, under 10 minutes on one H200 (torch 2.11, transformers 5.17):
# bench/slot_use.py -- static batches vs continuous batching, constrained answers of realistic
# lengths, forced-length variants, plain one-page generate as the baseline -- for
#   gemma-4-26b-a4b (random weights) at budgets 280 and 1120, gemma-4-e4b at 280.
# Then bench/prefix_prefill.py (issue P): a schema's instructions prefilled once against every
# prompt whole, 26B-A4B at budget 280, 32 pages (75 s at most); then bench/lora_step.py: one LoRA
# training step of docpipe finetune for E2B and E4B at budget 560 (60 s each at most).
# Every run writes its result file into OUT_DIR (slot_use.py as it goes: a run stopped by its time
# limit keeps the variants it finished; prefix_prefill.py at its end), plus suite.log and nvidia-smi.txt.
#
#   bash bench/fetch_wheels.sh                 # here, once: the packages the GPU image lacks -> .whl/
#   bash bench/gpu_suite.sh OUT_DIR            # there, with .whl carried along
#   bash bench/gpu_suite.sh OUT_DIR --tiny     # anywhere: the same steps on the tiny CPU model (checks the script)
#
# Page counts and time limits are env-overridable (PAGES_26B_280 ...); the defaults are sized
# from estimates, not yet from a GPU run.
set -uo pipefail
out=${1:?usage: gpu_suite.sh OUT_DIR [--tiny]}
mode=${2:-gpu}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"
py=${PYTHON:-python3}

if [ -d .whl ] && ! "$py" -c "import llguidance, pydantic, babel" 2>/dev/null; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/docpipe-site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/docpipe-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
if ! "$py" -c "import llguidance, pydantic, babel, torch, transformers"; then
  echo "missing packages: run bench/fetch_wheels.sh here and carry .whl" >&2
  exit 1
fi

status=0
run() {  # time limit in seconds, a bench/ script, then its arguments
  local limit=$1 script=$2
  shift 2
  echo "== $(date -u +%H:%M:%S) $script $* (limit ${limit}s)" | tee -a "$out/suite.log"
  timeout --signal=INT --kill-after=15 "$limit" "$py" "bench/$script" "$@" 2>&1 \
    | grep --line-buffered -v "Loading weights" | tee -a "$out/suite.log"
  local code=${PIPESTATUS[0]}
  [ "$code" -eq 0 ] || { echo "== exit $code" | tee -a "$out/suite.log"; status=1; }
}

if [ "$mode" = "--tiny" ]; then
  run 600 slot_use.py --out "$out" --tiny --budget 70,140 --pages 4 --batch-size 2 --length-scale 0.04 --output-tokens 4 \
    --forced-pages 2 --baseline-pages 1 --synthetic-pages
  run 300 prefix_prefill.py --results "$out" --pages 4 --rounds 1 --tokens 3 --budget 70
  run 120 lora_step.py --tiny --budget 70 --answer-tokens 64 --steps 2 --out "$out"
  exit $status
fi

"$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || { echo "no GPU" >&2; exit 1; }
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
"$py" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" \
  | tee -a "$out/suite.log"
common=(--batch-size auto --synthetic-pages --baseline-pages 2 --output-tokens 200)
run "${LIMIT_26B_280:-250}" slot_use.py --out "$out" --config bench/gemma4_configs/gemma-4-26b-a4b.json --budget 280 \
  --pages "${PAGES_26B_280:-256}" --forced-pages "${FORCED_26B_280:-128}" --experts grouped_mm_decode "${common[@]}"
run "${LIMIT_26B_1120:-140}" slot_use.py --out "$out" --config bench/gemma4_configs/gemma-4-26b-a4b.json --budget 1120 \
  --pages "${PAGES_26B_1120:-96}" --forced-pages "${FORCED_26B_1120:-64}" --experts grouped_mm_decode "${common[@]}"
run "${LIMIT_E4B_280:-110}" slot_use.py --out "$out" --config bench/gemma4_configs/gemma-4-e4b.json --budget 280 \
  --pages "${PAGES_E4B_280:-256}" --forced-pages "${FORCED_E4B_280:-128}" "${common[@]}"
run "${LIMIT_PREFIX:-75}" prefix_prefill.py --results "$out" --config bench/gemma4_configs/gemma-4-26b-a4b.json --budget 280 \
  --pages "${PAGES_PREFIX:-32}" --rounds 1
# docpipe finetune (issue L): one LoRA training step's seconds and peak memory, E2B and E4B at 560
run "${LIMIT_LORA:-60}" lora_step.py --config bench/gemma4_configs/gemma-4-e2b.json --budget 560 --out "$out"
run "${LIMIT_LORA:-60}" lora_step.py --config bench/gemma4_configs/gemma-4-e4b.json --budget 560 --out "$out"
exit $status
