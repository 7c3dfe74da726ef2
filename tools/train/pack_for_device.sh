#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Gather what the GPU machine needs (about 37 MB) into .traindata/device/, which the device
# tool carries: the gzipped training ids, held-out ids, tokenizer, meta and the golden cases.
set -e
cd "$(dirname "$0")/../.."
D=.traindata/device
rm -rf "$D" && mkdir -p "$D/golden"
gzip -1 -n -c .traindata/train.bin > "$D/train.bin.gz"
cp .traindata/heldout.bin .traindata/meta.json .traindata/tokenizer.model "$D"/
cp -r ../shared/golden/* "$D/golden/" && chmod -R u+w "$D"
du -sh "$D"
