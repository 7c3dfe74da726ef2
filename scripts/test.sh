#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up a fresh Debian 12 machine, builds everything and runs every test suite:
# the full build (CTest, all labels) and the engine suites again under ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's end is stamped, so a slow CI run says where its time went.
stage() { echo "test: $1 after ${SECONDS} s"; }
bash scripts/setup-debian.sh
stage "setup"
JOBS=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
ninja -C build -j"$JOBS"
stage "build"
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 900)
stage "test suites"

# Engine and HTTP server suites under the sanitizers (no app, no FPGA simulation, no GPU backends:
# those have their own suites above, and lavapipe/CUDA runtimes are not sanitizer-clean
# themselves; the Node SDK and nginx tests are the same C++ server seen from outside).
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMFREE_SANITIZE=ON \
  -DMMFREE_APP=OFF -DMMFREE_FPGA=OFF -DMMFREE_VULKAN=OFF -DMMFREE_CUDA=OFF
ninja -C build-asan -j"$JOBS"
stage "sanitizer build"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j"$JOBS" -L "engine|server" -E "^server_" --timeout 900)
stage "sanitizer suites"

# ---- Fuzzing (issue 20) ---------------------------------------------------------------------
# libFuzzer targets for every model-file parser (safetensors header, shard index, config.json,
# GGUF, tokenizer), built with clang -fsanitize=fuzzer,address,undefined in build-fuzz/, 60 s
# each from the seed corpora in tests/fuzz/corpus/, one per core at a time. Any finding fails the run.
bash tests/fuzz/run.sh 60 build-fuzz
stage "fuzzing"
