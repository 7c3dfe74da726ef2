#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# MMfree Studio against llama.cpp on the CPU, equal weight bytes per token (README.md).
#
#   run.sh MMFREE_CLI [ROUNDS]        prepare the kit if needed, generate the TQ2_0 model if
#                                     missing, then ROUNDS (default 3) alternated rounds of
#                                     `mmfree bench --synthetic 370M --backend cpu` and llama-speed;
#                                     one JSON summary on stdout, progress on stderr
#   run.sh --pack OUT.tar.xz [BUILD]  prepare the kit and pack it (with BUILD/engine/mmfree when
#                                     that exists) for a machine without network access
#
# The kit: bin/llama-speed (built against the headers of node-llama-cpp's llama.cpp bundle),
# lib/ (the prebuilt libllama and libggml*.so), bin/mmfree-tq2-model + gen-lib/ (its libraries),
# tokenizer.model and this script. Unpacked elsewhere, `KIT/run.sh` runs from the kit as it is.
# Environment: BUILD (build folder holding tools/llama-compare/mmfree-tq2-model, default: the one
# MMFREE_CLI lies in), KIT (default tools/llama-compare/work/kit), MODEL (default KIT/tq2-370M.gguf),
# THREADS (default nproc, for both engines; LLAMA_THREADS overrides it for llama.cpp: its spinning
# thread barriers collapse when other processes share the cores), REPS (runs per engine per round,
# default 3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { echo "llama-compare: $*" >&2; }

if [ -x "$here/bin/llama-speed" ]; then
  KIT=$here   # running from an unpacked kit
else
  KIT=${KIT:-$here/work/kit}
fi

# --- preparing the kit (needs npm, git, cc and a build of this repository) ----------------------
build_kit() {
  local build=$1 work=$here/work
  local gen=$build/tools/llama-compare/mmfree-tq2-model
  if [ ! -x "$gen" ]; then
    log "building mmfree-tq2-model in $build"
    nice ninja -C "$build" -j2 mmfree-tq2-model >&2
  fi
  log "npm ci (node-llama-cpp 3.21.1 and its prebuilt llama.cpp libraries)"
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund >&2)
  local bins=$here/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
  local bundle=$here/node_modules/node-llama-cpp/llama/gitRelease.bundle
  [ -f "$bins/libggml-base.so" ] || { log "no prebuilt linux-x64 libraries under $bins"; exit 1; }
  log "headers from $bundle"
  rm -rf "$work/llama.cpp" && mkdir -p "$work"
  git clone --quiet "$bundle" "$work/llama.cpp" 2>/dev/null
  rm -rf "$KIT" && mkdir -p "$KIT/bin" "$KIT/lib" "$KIT/gen-lib"
  # libllama and ggml: every CPU variant (ggml loads the best one for the CPU at run time).
  cp "$bins"/libllama.*so "$bins"/libggml*.so "$KIT/lib/"
  local llama_so ggml_so
  llama_so=$(cd "$KIT/lib" && ls libllama.*so) ggml_so=$(cd "$KIT/lib" && ls libggml.*so)
  cc -O2 -Wall -Wextra -std=c11 -D_POSIX_C_SOURCE=200809L \
    -I"$work/llama.cpp/include" -I"$work/llama.cpp/ggml/include" "$here/llama_speed.c" \
    -o "$KIT/bin/llama-speed" -L"$KIT/lib" -l:"$llama_so" -l:"$ggml_so" -l:libggml-base.so \
    -Wl,-rpath,'$ORIGIN/../lib'
  cp "$gen" "$KIT/bin/"
  local libs=("$gen")
  if [ -x "$build/engine/mmfree" ]; then cp "$build/engine/mmfree" "$KIT/bin/"; libs+=("$build/engine/mmfree"); fi
  # Their shared libraries (SentencePiece, protobuf, …) travel with them, as tests/cuda/make_bundle.sh does.
  for b in "${libs[@]}"; do ldd "$b" | awk '/=> \//{print $3}'; done | sort -u |
    grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux-x86-64)\.so' | while read -r lib; do cp -L "$lib" "$KIT/gen-lib/"; done
  cp "${TOKENIZER:-$here/../../../shared/tokenizers/mistral-v1/tokenizer.model}" "$KIT/tokenizer.model"
  cp "$here/run.sh" "$KIT/"
  log "kit ready in $KIT ($(du -sh "$KIT" | cut -f1))"
}

if [ "${1:-}" = "--pack" ]; then
  out=${2:?usage: run.sh --pack OUT.tar.xz [BUILD]}
  build_kit "$(cd "${3:-${BUILD:-$here/../../build}}" && pwd)"
  # The archive's folder is always kit/, whatever KIT was called here.
  tar cJf "$out" -C "$(dirname "$KIT")" --transform "s,^$(basename "$KIT"),kit," "$(basename "$KIT")"
  log "packed $(ls -la "$out" | awk '{print $5}') bytes into $out"
  exit 0
fi

cli=${1:?usage: run.sh MMFREE_CLI [ROUNDS] | run.sh --pack OUT.tar.xz [BUILD]}
rounds=${2:-3}
[ -x "$cli" ] || { log "$cli is not an executable mmfree CLI"; exit 1; }
if [ ! -x "$KIT/bin/llama-speed" ]; then
  build_kit "$(cd "${BUILD:-$(dirname "$cli")/..}" && pwd)"
fi
MODEL=${MODEL:-$KIT/tq2-370M.gguf}
THREADS=${THREADS:-$(nproc)}
REPS=${REPS:-3}
LLAMA_THREADS=${LLAMA_THREADS:-$THREADS}
if [ ! -f "$MODEL" ]; then
  log "generating $MODEL"
  LD_LIBRARY_PATH=$KIT/gen-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    "$KIT/bin/mmfree-tq2-model" --tokenizer "$KIT/tokenizer.model" --out "$MODEL" > "$MODEL.json"
fi

# One number out of a JSON text: the first "key": value.
field() { tr -d '\n' <<<"$2" | grep -o "\"$1\": *[0-9.e+-]*" | head -1 | sed 's/.*: *//'; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
ours_pp=() ours_tg=() theirs_pp=() theirs_tg=() loads=()
for r in $(seq 1 "$rounds"); do
  o=$(LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$KIT/gen-lib "$cli" bench --synthetic 370M --backend cpu --threads "$THREADS" --reps "$REPS")
  t=$("$KIT/bin/llama-speed" "$MODEL" --threads "$LLAMA_THREADS" --reps "$REPS" --backends "$KIT/lib")
  ours_pp+=("$(field pp512_tok_s "$o")") ours_tg+=("$(field tg128_tok_s "$o")")
  theirs_pp+=("$(field pp512_tok_s "$t")") theirs_tg+=("$(field tg128_tok_s "$t")")
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  log "round $r: ours pp512 ${ours_pp[-1]} tg128 ${ours_tg[-1]}; llama.cpp pp512 ${theirs_pp[-1]} tg128 ${theirs_tg[-1]} (load ${loads[-1]})"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
ours_bpt=$(field weight_bytes_read_per_token "$o")
ours_layout=$(tr -d '\n' <<<"$o" | grep -o '"cpu_weights": *"[^"]*"' | sed 's/^"cpu_weights": *//')
theirs_bpt=$(field weight_bytes_per_token "$(cat "$MODEL.json" 2>/dev/null)")
system_info=$(tr -d '\n' <<<"$t" | grep -o '"system_info": *"[^"]*"' | sed 's/^"system_info": *//')
cpu_variant=$(tr -d '\n' <<<"$t" | grep -o '"cpu_variant": *"[^"]*"' | sed 's/^"cpu_variant": *//')

# Medians over the rounds and the ratios ours / llama.cpp of the medians.
awk -v op="${ours_pp[*]}" -v ot="${ours_tg[*]}" -v tp="${theirs_pp[*]}" -v tt="${theirs_tg[*]}" \
    -v threads="$THREADS" -v lthreads="$LLAMA_THREADS" -v rounds="$rounds" -v reps="$REPS" -v cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" \
    -v lr="${loads[*]}" -v lb="$load_before" -v la="$load_after" -v bpt="${ours_bpt:-null}" -v layout="${ours_layout:-\"\"}" -v tbpt="${theirs_bpt:-null}" -v model="$MODEL" -v info="${system_info:-\"\"}" -v variant="${cpu_variant:-\"\"}" '
function med(s,   a, n, i, j, x) {
  n = split(s, a, " ")
  for (i = 2; i <= n; ++i) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; --j) a[j + 1] = a[j]; a[j + 1] = x }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function best(s,   a, n, i, m) { n = split(s, a, " "); m = a[1]; for (i = 2; i <= n; ++i) if (a[i] + 0 > m + 0) m = a[i]; return m }
function list(s) { gsub(/ /, ", ", s); return "[" s "]" }
BEGIN {
  printf "{\n  \"cpu\": \"%s\", \"threads\": %d, \"llama_threads\": %d, \"rounds\": %d, \"reps_per_round\": %d,\n", cpu, threads, lthreads, rounds, reps
  printf "  \"load_average_before\": \"%s\", \"load_average_after\": \"%s\", \"load_1min_after_each_round\": %s,\n", lb, la, list(lr)
  printf "  \"ours\": {\"cmd\": \"mmfree bench --synthetic 370M --backend cpu\", \"cpu_weights\": %s, \"weight_bytes_read_per_token\": %s,\n", layout, bpt
  printf "           \"pp512_tok_s\": %s, \"tg128_tok_s\": %s, \"pp512_median\": %.1f, \"tg128_median\": %.1f, \"pp512_best\": %.1f, \"tg128_best\": %.1f},\n", list(op), list(ot), med(op), med(ot), best(op), best(ot)
  printf "  \"llama_cpp\": {\"model\": \"%s\", \"weight_bytes_per_token\": %s,\n           \"cpu_variant\": %s, \"system_info\": %s,\n", model, tbpt, variant, info
  printf "           \"pp512_tok_s\": %s, \"tg128_tok_s\": %s, \"pp512_median\": %.1f, \"tg128_median\": %.1f, \"pp512_best\": %.1f, \"tg128_best\": %.1f},\n", list(tp), list(tt), med(tp), med(tt), best(tp), best(tt)
  printf "  \"ratio_pp512\": %.2f, \"ratio_tg128\": %.2f, \"ratio_pp512_best\": %.2f, \"ratio_tg128_best\": %.2f\n}\n",
    med(op) / med(tp), med(ot) / med(tt), best(op) / best(tp), best(ot) / best(tt)
}'
