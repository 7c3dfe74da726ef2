#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Packs the CUDA test/bench binaries of a build folder and their shared libraries (the device
# machine has no Qt or SentencePiece) into .cudacarry/bundle.tar.xz for tests/cuda/run_h200.sh.
set -euo pipefail
build=${1:-build-cuda}
stage=$(mktemp -d)
mkdir -p "$stage/bin" "$stage/lib" .cudacarry
bins=("$build/engine/mmfree" "$build/tests/cuda/test_cuda" "$build/tests/cuda/cuda_sweep")
# The Vulkan suite too, when the build has it (run it on the GPU machine with the loader .debs).
[ -x "$build/tests/vulkan/test_vulkan" ] && bins+=("$build/tests/vulkan/test_vulkan")
# The load generator, for run_h200.sh's served benchmark (SERVED=…).
[ -x "$build/tools/loadgen/mmfree-loadgen" ] && bins+=("$build/tools/loadgen/mmfree-loadgen")
# A binary older than the engine library would run stale code (`ninja mmfree` builds only the
# library; the CLI's target is mmfree-cli).
for b in "${bins[@]}"; do
  if [ "$build/engine/libmmfree.a" -nt "$b" ]; then
    echo "$b is older than $build/engine/libmmfree.a: ninja -C $build mmfree-cli test_cuda cuda_sweep mmfree-loadgen" >&2
    exit 1
  fi
done
cp "${bins[@]}" "$stage/bin/"
# Optionally a Vulkan-enabled CLI (VK_MMFREE=path) to bench both backends in one run.
if [ -n "${VK_MMFREE:-}" ]; then cp "$VK_MMFREE" "$stage/bin/mmfree-vk"; bins+=("$VK_MMFREE"); fi
# Optionally an earlier CLI (BASE_MMFREE=path) to bench before and after in the same run.
if [ -n "${BASE_MMFREE:-}" ]; then cp "$BASE_MMFREE" "$stage/bin/mmfree-base"; bins+=("$BASE_MMFREE"); fi
for b in "${bins[@]}"; do
  ldd "$b" | awk '/=> \//{print $3}'
done | sort -u | grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux-x86-64)\.so' | while read -r lib; do
  cp -L "$lib" "$stage/lib/"
done
tar cJf .cudacarry/bundle.tar.xz -C "$stage" bin lib
rm -rf "$stage"
ls -la .cudacarry/bundle.tar.xz
