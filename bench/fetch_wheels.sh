#!/usr/bin/env bash
# Download, here, the wheels bench/gpu_suite.sh needs on the GPU machine, into .whl/ (git-ignored).
#
# That machine has Python 3.12, torch 2.11 and transformers 5.17 but none of these (its image's
# package list, /work/.library/device/KINDS.md) and cannot reach a registry. The versions are
# the ones docpipe's own environment holds. PyMuPDF is left out on purpose (~25 MB of the 64 MiB a
# call may carry): the suite draws its pages with PIL (bench/slot_use.py --synthetic-pages).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-.whl}
mkdir -p "$dest"
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_35_x86_64 --platform manylinux_2_34_x86_64 --platform manylinux_2_31_x86_64 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  --platform any -d "$dest" \
  llguidance==1.9.1 pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 \
  typing-inspection==0.4.5 babel==2.19.0 peft==0.21.2  # peft: the image has one, of unknown version
du -ch "$dest"/*.whl | tail -1
