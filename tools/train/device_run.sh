#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Run one training segment on the GPU machine and put what must come back into $OUT:
# the weight shards, report.tgz (config, tokenizer, index, eval, loss curve, samples) and log.txt.
# Usage (repo root, data packed by pack_for_device.sh): tools/train/device_run.sh [train.py args]
set -o pipefail
DATA=${DATA:-.traindata/device}
WORK=${WORK:-/tmp/mmfree_out}
OUT=${OUT:-/tmp/mmfree_return}
mkdir -p "$OUT"
PYTHONUNBUFFERED=1 python3 tools/train/train.py --data "$DATA" --out "$WORK" "$@" 2>&1 | tee -a "$OUT/log.txt"
rc=$?
if [ -d "$WORK/demo-hf" ]; then
  [ "${RETURN_WEIGHTS:-1}" = 1 ] && cp "$WORK"/demo-hf/model*.safetensors "$OUT"/
  tar czf "$OUT/report.tgz" -C "$WORK" --exclude='model*.safetensors' .
fi
exit $rc
