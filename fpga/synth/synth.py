#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Yosys resource estimates for the MMFA accelerator: a simulation-size and a board-size
configuration, synthesized for Xilinx 7-series cells (synth_xilinx), written as a markdown table.

These are pre-place-and-route estimates from yosys 0.23: cell counts, not a fitted design, and
there is no timing analysis for Xilinx in this toolchain, so no Fmax is claimed (the clock in
CAPS_CLK_HZ is a nominal target). The logic depth is the longest register-to-register path in
cells: `ltp -noff` alone does not know the Xilinx flip-flop and block-RAM primitives that
synth_xilinx leaves, and then walks through them (a 32-bit counter read as depth 12, a chain of
three registered adders as 18), so they are taken out of the selection it searches; and the design
is flattened first, or ltp reports per module and misses the paths that cross module boundaries.
Usage: synth.py [--config sim|board|all] [--out resources.md]
"""
import argparse
import json
import re
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import paths  # noqa: E402

LIMIT = 12   # logic depth that stands for 200 MHz on 7-series (issue 24)
RTL = os.path.join(os.path.dirname(HERE), "rtl")
SOURCES = paths.SOURCES   # the RTL files, in read order (one list, in paths.py)
CONFIGS = {
    "sim": {"LANES": 64, "DMAX": 1024, "PROG_DEPTH": 1024, "NV": 8},
    "board": {"LANES": 256, "DMAX": 8192, "PROG_DEPTH": 4096, "NV": 8},
}


def synth(name, params, family, timeout):
    with tempfile.TemporaryDirectory() as tmp:
        stat = os.path.join(tmp, "stat.txt")
        chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
        script = (f"read_verilog -sv {' '.join(SOURCES)}; chparam {chparam} mmfa_top; "
                  f"synth_xilinx -flatten -family {family} -top mmfa_top -noiopad; "
                  f"tee -q -o {stat} stat; "
                  # paths end at flip-flops, shift registers, block RAMs and DSP48E1s whose inputs
                  # are registered inside (yosys packs A/B registers into them); LUTs, carry
                  # chains, muxes and the other DSPs count one cell each
                  f"tee -q -o {tmp}/ltp.txt ltp -noff w:* t:* %u t:FD* %d t:SRL* %d t:RAMB* %d t:BUFG* %d "
                  f"t:DSP48E1 r:AREG=1 %i %d t:DSP48E1 r:BREG=1 %i %d; "
                  f"write_json {tmp}/net.json")
        t0 = time.time()
        subprocess.run(["yosys", "-q", "-p", script], cwd=RTL, check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # yosys 0.23's `stat -json` writes invalid JSON for this design: parse the text report
        # (flattened, so the last section is the whole design)
        cells = {}
        with open(stat, encoding="utf-8") as f:
            for line in f:
                if line.startswith("==="):
                    cells = {}
                m = re.match(r"^\s+([A-Za-z_$][\w$]*)\s+(\d+)\s*$", line)
                if m:
                    cells[m.group(1)] = int(m.group(2))
        depth, path = "?", []
        with open(os.path.join(tmp, "ltp.txt"), encoding="utf-8") as f:
            for line in f:
                m = re.search(r"Longest topological path.*length=(\d+)", line)
                if m:
                    depth = m.group(1)
                m = re.match(r"^\s+\d+: (\S+(?: \[\d+\])?)", line)
                if m:
                    path.append(m.group(1))
        ends = f"{path[0]} → {path[-1]}" if path else "?"
        # every destination register over the limit, by the same rule (paths.py)
        with open(os.path.join(tmp, "net.json"), encoding="utf-8") as f:
            deep = paths.analyse(json.load(f), "mmfa_top", LIMIT)
        return cells, (depth, ends, deep), time.time() - t0


def summarize(cells):
    def total(pred):
        return sum(v for k, v in cells.items() if pred(k))
    return {
        "LUT": total(lambda k: k.startswith("$_") is False and k.startswith("LUT")),
        "LUTRAM": total(lambda k: k.startswith("RAM") and not k.startswith("RAMB")),
        "FF": total(lambda k: k.startswith("FD")),
        "CARRY4": total(lambda k: k.startswith("CARRY")),
        "MUXF7/8": total(lambda k: k.startswith("MUXF")),
        "DSP48E1": total(lambda k: k.startswith("DSP48")),
        "RAMB36": total(lambda k: k.startswith("RAMB36")),
        "RAMB18": total(lambda k: k.startswith("RAMB18")),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="all", choices=["sim", "board", "all"])
    ap.add_argument("--family", default="xc7")
    ap.add_argument("--out", default=os.path.join(HERE, "resources.md"))
    ap.add_argument("--timeout", type=int, default=3600)
    a = ap.parse_args()
    names = list(CONFIGS) if a.config == "all" else [a.config]
    rows = []
    for n in names:
        cells, depth, secs = synth(n, CONFIGS[n], a.family, a.timeout)
        s = summarize(cells)
        s["BRAM36-eq"] = s["RAMB36"] + s["RAMB18"] / 2
        rows.append((n, CONFIGS[n], s, depth, secs))
        print(f"{n}: {s} logic depth {depth} ({secs:.0f} s)", file=sys.stderr)
    cols = ["LUT", "LUTRAM", "FF", "CARRY4", "MUXF7/8", "DSP48E1", "RAMB36", "RAMB18", "BRAM36-eq"]
    out = ["<!-- Generated by fpga/synth/synth.py; yosys " + subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.split()[1] + " -->",
           "# MMFA resource estimates (yosys synth_xilinx -family " + a.family + ")", "",
           "Pre-place-and-route cell counts. No timing analysis exists for Xilinx in yosys 0.23, so no Fmax",
           "is claimed; 'logic depth' is the cells (LUT, CARRY4, MUXF7/8, DSP48E1) on the longest path",
           "between flip-flops / SRLs / block RAMs / input-registered DSPs (yosys `ltp -noff` with those taken",
           "out; see synth.py); the list of destinations deeper than 12 cells comes from paths.py on the same",
           "netlist (it also ends paths at DSPs with two-deep or product-only registers).", "",
           "| config | lanes | DMAX | vregs | prog | " + " | ".join(cols) + " | logic depth |",
           "|---|---|---|---|---|" + "---|" * len(cols) + "---|"]
    for n, p, s, depth, _ in rows:
        out.append(f"| {n} | {p['LANES']} | {p['DMAX']} | {p['NV']} | {p['PROG_DEPTH']} | " +
                   " | ".join(f"{s[c]:g}" for c in cols) + f" | {depth[0]} |")
    out.append("")
    for n, _, _, depth, _ in rows:
        out.append(f"Longest path, {n}: `{depth[1]}`")
        deep = sorted(depth[2].items(), key=lambda kv: -kv[1][0])
        out.append(f"Destinations deeper than {LIMIT} cells, {n}: {len(deep)}" + (":" if deep else "."))
        for key, (d, origin, _) in deep[:20]:
            out.append(f"- {d}: `{origin}` → `{key}`")
    # hand-kept context (before/after, modeled throughput) follows the generated table
    notes = os.path.join(HERE, "resources_notes.md")
    if os.path.exists(notes):
        with open(notes, encoding="utf-8") as f:
            out += ["", f.read().rstrip("\n")]
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
