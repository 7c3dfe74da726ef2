#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time on its
# committed seed corpus. Exits non-zero on any finding (crash, sanitizer report, leak, timeout,
# out-of-memory); the reproducer is left as BUILD_DIR/finding-<target>-*.
#   tests/fuzz/run.sh [SECONDS_PER_TARGET=60] [BUILD_DIR=build-fuzz] [TARGET…]
# A libFuzzer process uses one core, so targets run side by side, one per core (FUZZ_JOBS, default
# nproc): each still gets its full time on a core of its own, and CI waits 3 minutes instead of 5.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
build=${2:-build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors index config gguf tokenizer)
jobs=${FUZZ_JOBS:-$(nproc)}

cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build"

# One target: its log in BUILD_DIR/fuzz_T.log; inputs found during the run go to a scratch folder,
# so the committed corpus stays small.
fuzz_one() {
  local t=$1 found rc=0
  found=$(mktemp -d)
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/finding-$t-" "$found" "tests/fuzz/corpus/$t" >"$build/fuzz_$t.log" 2>&1 || rc=$?
  rm -rf "$found"
  return $rc
}

declare -A pid_target=()
failed=()
# Waits for one running target and records whether it found something.
reap() {
  local done_pid
  if wait -n -p done_pid; then :; else failed+=("${pid_target[$done_pid]}"); fi
  unset "pid_target[$done_pid]"
}
for t in "${targets[@]}"; do
  while [ ${#pid_target[@]} -ge "$jobs" ]; do reap; done
  echo "== fuzz_$t for ${seconds}s"
  fuzz_one "$t" &
  pid_target[$!]=$t
done
while [ ${#pid_target[@]} -gt 0 ]; do reap; done

for t in "${targets[@]}"; do
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz_$t.log" | sed "s/^/fuzz_$t: /" || true
done
for t in "${failed[@]}"; do
  tail -n 60 "$build/fuzz_$t.log"
  echo "fuzz_$t: FINDING (see $build/fuzz_$t.log and $build/finding-$t-*)" >&2
done
[ ${#failed[@]} -eq 0 ]
