#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs on the GPU machine from the repository root with the bundle from make_bundle.sh:
# the CUDA suite, `mmfree bench` for the three release shapes, and the tuning sweep.
# Logs go to $OUT (or ./out). Usage: tests/cuda/run_h200.sh [sweep sizes…]
# CARRY: the folder holding bundle.tar.xz (default .cudacarry); BENCH_ARGS: extra `mmfree bench`
# arguments, e.g. "--batch 1,8,64,256 --power" (each model's "batches" are then summarized).
# SERVED: backends ("vulkan cuda") whose served throughput is measured: `mmfree serve` on a
# synthetic 370M with 256 slots, the bundled mmfree-loadgen's sampling clients (T 0.7, top-p 0.95)
# at 1/16/64/256 clients and 256 clients × 2 × 128 tokens, against `bench --batch 256` of the run.
# CROSSOVER: model sizes whose small batches (2, 4, 8, 16) are benched twice, grouped persistent
# kernel (MMFREE_CUDA_GROUPED_MAX=8) against row passes (=0), to place the crossover between them.
set -u
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT"
B=/tmp/mmfree-bundle
CARRY=${CARRY:-.cudacarry}
mkdir -p $B && tar xJf $CARRY/bundle.tar.xz -C $B || exit 1
export LD_LIBRARY_PATH=$B/lib
# The test binaries know the data folder by the path they were built in (BUILT_IN, /work/main here).
root=${BUILT_IN:-/work/main}
if [ ! -d "$root/tests/data" ]; then mkdir -p "$root" && ln -sfn "$PWD/tests" "$root/tests"; fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv | tee "$OUT/gpu.txt"
$B/bin/mmfree info --devices 2>&1 | tee "$OUT/devices.txt"
echo "== test_cuda"
timeout 240 $B/bin/test_cuda > "$OUT/test_cuda.log" 2>&1; echo "test_cuda exit $?" | tee -a "$OUT/test_cuda.log"
grep -E "^(PASS|FAIL|SKIP|XFAIL|QWARN|Totals)|Loc:" "$OUT/test_cuda.log" | grep -v "^PASS" | head -40
grep Totals "$OUT/test_cuda.log"
echo "== mmfree bench --backend cuda (base: the CLI from BASE_MMFREE, when bundled)"
for cli in mmfree mmfree-base; do
  [ -x $B/bin/$cli ] || continue
  for m in 370M 1.3B 2.7B; do
    timeout 150 $B/bin/$cli bench --synthetic $m --backend cuda ${BENCH_ARGS:-} > "$OUT/bench_${cli}_$m.json" 2> "$OUT/bench_${cli}_$m.err"
    echo "$cli $m exit $? $(tr -d '\n ' < "$OUT/bench_${cli}_$m.json" | grep -o '"pp512_tok_s":[0-9.]*\|"tg128_tok_s":[0-9.]*\|"device_memory_bytes":[0-9.]*\|"bandwidth_gb_s":[0-9.]*' | tr '\n' ' ')"
    python3 -c 'import json,sys
for b in json.load(open(sys.argv[1])).get("batches", []):
    print("  B=%d aggregate %.0f per-stream %.1f tok/s, memory %.0f MB, J/token %s" % (b["batch"], b["aggregate_tok_s"],
          b["per_stream_tok_s"], b["device_memory_bytes"] / 1e6, b.get("j_per_token", "-")))' "$OUT/bench_${cli}_$m.json" 2>/dev/null
    cat "$OUT/bench_${cli}_$m.err"
  done
done
summarize() {
  python3 -c 'import json,sys
for b in json.load(open(sys.argv[1])).get("batches", []):
    print("  B=%d aggregate %.0f per-stream %.1f tok/s" % (b["batch"], b["aggregate_tok_s"], b["per_stream_tok_s"]))' "$1" 2>/dev/null
}
for m in ${CROSSOVER:-}; do
  for pm in 8 0; do
    MMFREE_CUDA_GROUPED_MAX=$pm timeout 90 $B/bin/mmfree bench --synthetic $m --backend cuda --pp 16 --tg 64 --reps 2 \
      --batch 2,4,8,16 > "$OUT/crossover_${m}_$pm.json" 2> "$OUT/crossover_${m}_$pm.err"
    echo "crossover $m MMFREE_CUDA_GROUPED_MAX=$pm exit $?"
    summarize "$OUT/crossover_${m}_$pm.json"
  done
done
if [ -x $B/bin/mmfree-vk ]; then
  echo "== mmfree bench --backend vulkan"
  mkdir -p /tmp/gl && for f in $CARRY/gl/*.deb; do dpkg -x "$f" /tmp/gl; done
  export LD_LIBRARY_PATH=$B/lib:/tmp/gl/usr/lib/x86_64-linux-gnu
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f $icd ] && export VK_DRIVER_FILES=$icd
  $B/bin/mmfree-vk info --devices 2>&1 | grep -A3 "^vulkan"
  for m in 370M 1.3B 2.7B; do
    timeout 100 $B/bin/mmfree-vk bench --synthetic $m --backend vulkan > "$OUT/bench_vulkan_$m.json" 2> "$OUT/bench_vulkan_$m.err"
    echo "$m exit $? $(tr -d '\n ' < "$OUT/bench_vulkan_$m.json" | grep -o '"backend":"[a-z]*"\|"pp512_tok_s":[0-9.]*\|"tg128_tok_s":[0-9.]*' | tr '\n' ' ')"
    head -c 300 "$OUT/bench_vulkan_$m.err"
  done
  export LD_LIBRARY_PATH=$B/lib
fi
if [ -n "${SERVED:-}" ] && [ -x $B/bin/mmfree-loadgen ]; then
  mkdir -p /tmp/gl && for f in $CARRY/gl/*.deb; do dpkg -x "$f" /tmp/gl; done
  export LD_LIBRARY_PATH=$B/lib:/tmp/gl/usr/lib/x86_64-linux-gnu
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f $icd ] && export VK_DRIVER_FILES=$icd
  cli=$B/bin/mmfree; [ -x $B/bin/mmfree-vk ] && cli=$B/bin/mmfree-vk
  $cli convert --synthetic 370M --tokenizer tests/data/mistral-v1.tokenizer.model -o /tmp/s370.gguf 2>&1 | tail -1
  levels() {
    python3 -c 'import json,sys
for l in json.load(open(sys.argv[1]))["levels"]:
    print("  %d clients: %.0f tok/s, TTFT p50 %.1f p99 %.1f ms, errors %d, engine %s" % (l["clients"], l["aggregate_tok_s"],
          l["ttft_ms_p50"], l["ttft_ms_p99"], l["errors"], {k: round(v, 3) for k, v in l.get("engine_share", {}).items()}))' "$1" 2>/dev/null
  }
  for be in $SERVED; do
    echo "== served, $be"
    timeout 120 $cli bench -m /tmp/s370.gguf --backend $be --batch 256 --pp 64 --tg 16 --reps 1 > "$OUT/served_bench_$be.json" 2>/dev/null
    python3 -c 'import json,sys
for b in json.load(open(sys.argv[1])).get("batches", []):
    print("  bench B=%d: %.0f tok/s greedy, %s sampled on the device" % (b["batch"], b["aggregate_tok_s"], b.get("sampled_aggregate_tok_s", "not")))' "$OUT/served_bench_$be.json" 2>/dev/null
    $cli serve -m /tmp/s370.gguf --backend $be --parallel 256 --port 8080 > "$OUT/serve_$be.log" 2>&1 &
    sp=$!
    for i in $(seq 120); do curl -sf http://127.0.0.1:8080/health >/dev/null 2>&1 && break; sleep 0.5; done
    timeout 150 $B/bin/mmfree-loadgen --url http://127.0.0.1:8080 --clients 1,16,64,256 --requests 3 --max-tokens 64 -o "$OUT/served_$be.json" >/dev/null 2>&1
    levels "$OUT/served_$be.json"
    timeout 100 $B/bin/mmfree-loadgen --url http://127.0.0.1:8080 --clients 256 --requests 2 --max-tokens 128 -o "$OUT/served_long_$be.json" >/dev/null 2>&1
    echo "  256 clients x 2 x 128 tokens:"; levels "$OUT/served_long_$be.json"
    kill $sp; wait $sp 2>/dev/null
  done
  export LD_LIBRARY_PATH=$B/lib
fi
if [ "$#" -gt 0 ] && grep -q "Totals: .* 0 failed" "$OUT/test_cuda.log"; then
  echo "== sweep"
  timeout 240 $B/bin/cuda_sweep "$@" 2>&1 | tee "$OUT/sweep.txt"
fi
