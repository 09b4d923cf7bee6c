#!/usr/bin/env bash
# Set up docpipe in a virtual environment: torch + torchvision first (Gemma4Processor needs
# torchvision, and the two must be a matching pair), then docpipe with its test extras.
# Usage: bash install.sh            (creates .venv next to this file)
#        VENV=/path bash install.sh (another location)
#        bash install.sh --vllm     (also .venv-vllm: vLLM for `docpipe serve-model`, see below)
set -euo pipefail
cd "$(dirname "$0")"
WITH_VLLM=0
for arg in "$@"; do
  case "$arg" in
    --vllm) WITH_VLLM=1 ;;
    *) echo "unknown option $arg (known: --vllm)" >&2; exit 2 ;;
  esac
done
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip

case "$(uname -m)" in
  aarch64|arm64) TORCH="torch==2.9.1 torchvision==0.24.1" ;;
  *)             TORCH="torch==2.14.1 torchvision==0.29.1" ;;
esac
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install --quiet $TORCH
"$VENV/bin/python" -m pip install --quiet -e ".[dev]"
# System programs, with apt where it can (as root), otherwise one line saying what to run:
# - LibreOffice: Office and HTML files are read once it turns them into PDFs (ingest/convert.py),
#   with fonts metric-compatible with Office's (Carlito, Caladea, Liberation) and Noto CJK;
# - Chromium and its driver: the tests try the review page in the system's headless browser.
system_packages() {  # $1: a command that says they are there; $2: what they are for; rest: packages
  local check="$1" why="$2"; shift 2
  command -v "$check" >/dev/null && return 0
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
      || echo "warning: could not install $*; $why. Run: apt-get install $*" >&2
  else
    echo "note: $why. Run: sudo apt-get install $*" >&2
  fi
}
system_packages soffice "without LibreOffice, Office and HTML files get an 'unsupported' row" \
  libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui \
  fonts-crosextra-carlito fonts-crosextra-caladea fonts-liberation fonts-noto-cjk
system_packages chromedriver "without Chromium, the browser test of the review page skips, saying why" \
  chromium chromium-driver
echo "docpipe installed in $VENV: run the tests with $VENV/bin/pytest"
if [ "$WITH_VLLM" = 1 ]; then
  bash .ci/install_vllm.sh
fi
