#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The whole demo model from scratch on a machine with its own CUDA GPU (fixed seed 1234):
# tokenizer + data on the CPU, then 5000 training steps, evaluation, export to tools/train/out/.
# Needs spm_train, python3 with numpy + sentencepiece (prepare), and python3 with torch,
# triton, safetensors, sentencepiece (train; set TRAIN_PY if that is another interpreter).
set -e
cd "$(dirname "$0")/../.."
PREP_PY=${PREP_PY:-python3}
TRAIN_PY=${TRAIN_PY:-python3}
[ -f .traindata/train.bin ] || "$PREP_PY" tools/train/prepare_data.py
mkdir -p tools/train/out
set -o pipefail
PYTHONUNBUFFERED=1 "$TRAIN_PY" tools/train/train.py --data .traindata --out tools/train/out \
  --steps 5000 "$@" 2>&1 | tee tools/train/out/train_log.txt
