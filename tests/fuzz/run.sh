#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time on its
# committed seed corpus. Exits non-zero on any finding (crash, sanitizer report, leak, timeout,
# out-of-memory); the reproducer is left as BUILD_DIR/finding-<target>-*.
#   tests/fuzz/run.sh [SECONDS_PER_TARGET=60] [BUILD_DIR=build-fuzz] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
build=${2:-build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors index config gguf tokenizer)

cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build"
for t in "${targets[@]}"; do
  # Inputs found during the run go to a scratch folder: the committed corpus stays small.
  found=$(mktemp -d)
  log="$build/fuzz_$t.log"
  echo "== fuzz_$t for ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/finding-$t-" "$found" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz_$t: FINDING (see $log and $build/finding-$t-*)" >&2
    rm -rf "$found"
    exit 1
  fi
  rm -rf "$found"
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/fuzz_$t: /"
done
