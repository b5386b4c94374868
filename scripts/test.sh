#!/usr/bin/env bash
# Set up everything and run the whole test suite:
#   system packages for the GUI tests (Xvfb, Mesa GL) when root on Debian/Ubuntu,
#   a virtual environment .venv with the app, the training extras (CPU torch 2.13.0) and the test tools,
#   then pytest over tests/ (unit, qt, render, e2e under Xvfb, training, data).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_system_deps.sh
install_system_deps
PY=${PYTHON:-python3}
VENV=${MEDPRIV_VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch is pinned in the same command as the training extras so pip keeps the CPU build.
"$VENV/bin/python" -m pip install -q -e ".[train,dev,cluster]" "torch==2.13.0"
# nnunetv2 -> dynamic-network-architectures -> timm pulls PyPI's torchvision, which is built against the CUDA torch:
# next to the CPU torch its extension fails to load and `import torchvision` raises, which breaks transformers'
# model imports. Nothing here needs it (timm only serves nnU-Net's ViT architectures), so it goes.
"$VENV/bin/python" -m pip uninstall -q -y torchvision
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS=""
start=$(date +%s)
"$VENV/bin/python" -m pytest tests -q "$@"
echo "tests took $(( $(date +%s) - start )) s"
