#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every register-to-register path deeper than a limit, not only the longest one.

Reads the JSON netlist yosys writes after `synth_xilinx -flatten` and measures logic depth in
cells: paths start and end at flip-flops, SRLs, block RAMs, BUFGs, DSP48E1s with an internal
pipeline register (A/B, M or P; a DSP that registers only its output adds its multiplier, one
cell, to the path into it), and the top's ports; every other cell (LUT, CARRY4, MUXF7/8,
unregistered DSP48E1) counts one. For each destination register (named by the net its output
drives) it prints the depth and one worst path back to its source, so a whole round of
pipelining can be planned from one synthesis run.
Usage: paths.py netlist.json [--limit 12] [--top mmfa_top]
       paths.py --synth MODULE [--set NAME=VALUE ...] [--limit 12]   (synthesizes one module)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
RTL = os.path.join(os.path.dirname(HERE), "rtl")
SOURCES = ["mmfa_regs_pkg.sv", "mmfa_cnt64.sv", "mmfa_gt.sv", "mmfa_delay.sv", "mmfa_padd.sv", "mmfa_segsub.sv", "mmfa_csa.sv", "mmfa_mulcs.sv", "mmfa_mulrs.sv", "mmfa_addtree.sv", "mmfa_tmv_dot.sv", "mmfa_divider.sv", "mmfa_isqrt.sv",
           "mmfa_sigmoid_rom.sv", "mmfa_ew.sv", "mmfa_engine.sv", "mmfa_top.sv"]


def _param(cell, key):
    v = str(cell.get("parameters", {}).get(key, "0"))
    return int(v, 2) if v and set(v) <= {"0", "1"} else int(v or 0)


def is_boundary(cell):
    """Cells where a path starts and ends: flip-flops, SRLs, block RAMs, clock buffers, and
    DSP48E1s with any internal pipeline register (A/B input registers, the multiplier's M
    register or the P output register; yosys packs one or two fabric registers into them)."""
    t = cell["type"]
    if t.startswith(("FD", "SRL", "RAMB", "BUFG")):
        return True
    if t == "DSP48E1":
        return any(_param(cell, k) for k in ("AREG", "BREG", "MREG", "PREG"))
    return False


def end_cost(cell):
    # a DSP48E1 that registers only its output still has the multiplier on the incoming path
    if cell["type"] == "DSP48E1" and not (_param(cell, "AREG") or _param(cell, "BREG")):
        return 1
    return 0


def analyse(netlist, top, limit):
    # after chparam the top is named $paramod$<hash>\\<top>
    mod = next(m for n, m in netlist["modules"].items() if n == top or n.endswith("\\" + top))
    cells = mod["cells"]
    names = {}
    for n, info in mod["netnames"].items():
        for b in info["bits"]:
            hidden = n.startswith("$") or bool(info.get("hide_name", 0))
            if isinstance(b, int) and (b not in names or (names[b][1] and not hidden)):
                names[b] = (n + (f"[{info['bits'].index(b)}]" if len(info["bits"]) > 1 else ""), hidden)
    driver = {}
    for cn, c in cells.items():
        for p, bits in c["connections"].items():
            if c["port_directions"].get(p) == "output":
                for b in bits:
                    if isinstance(b, int):
                        driver[b] = cn
    depth, via = {}, {}

    def cell_depth(cn):
        # iterative DFS: the netlist is deep enough to overflow Python's recursion limit
        stack = [cn]
        while stack:
            c = stack[-1]
            if c in depth:
                stack.pop()
                continue
            cell = cells[c]
            if is_boundary(cell):
                depth[c] = 0
                stack.pop()
                continue
            pending = []
            best, arg = 0, None
            for p, bits in cell["connections"].items():
                if cell["port_directions"].get(p) != "input":
                    continue
                for b in bits:
                    d = driver.get(b) if isinstance(b, int) else None
                    if d is None:
                        continue
                    if d not in depth:
                        pending.append(d)
                    elif depth[d] > best or arg is None:
                        best, arg = max(best, depth[d]), d
            if pending:
                stack.extend(pending)
                continue
            depth[c] = best + 1
            via[c] = arg
            stack.pop()
        return depth[cn]

    worst = {}
    for cn, c in cells.items():
        if not is_boundary(c):
            continue
        arrive, src = 0, None
        for p, bits in c["connections"].items():
            if c["port_directions"].get(p) != "input":
                continue
            for b in bits:
                d = driver.get(b) if isinstance(b, int) else None
                if d is not None and cells[d] and cell_depth(d) > arrive:
                    arrive, src = depth[d], d
        if src is not None:
            arrive += end_cost(c)
        if arrive <= limit:
            continue
        out = [b for p, bits in c["connections"].items() if c["port_directions"].get(p) == "output" for b in bits]
        label = names.get(out[0], (cn, 1))[0] if out else cn
        key = re.sub(r"\[\d+\]$", "", label) if not label.startswith("$") else c["type"] + " " + label
        if key not in worst or worst[key][0] < arrive:
            path = []
            s = src
            while s is not None:
                path.append(s)
                s = via.get(s)
            first = path[-1]
            if is_boundary(cells[first]):
                path.pop()
                outs = [b for p, bits in cells[first]["connections"].items()
                        if cells[first]["port_directions"].get(p) == "output" for b in bits]
                origin = names.get(outs[0], (first, 1))[0] if outs else first
            else:
                origin = "(port/const)"
            types = defaultdict(int)
            for s in path:
                types[cells[s]["type"]] += 1
            worst[key] = (arrive, origin, dict(types))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("netlist", nargs="?")
    ap.add_argument("--top", default="mmfa_top")
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--synth", metavar="MODULE")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args()
    if a.synth:
        tmp = tempfile.mkdtemp()
        a.netlist = os.path.join(tmp, "net.json")
        a.top = a.synth
        chparam = " ".join(f"-set {kv.split('=')[0]} {kv.split('=')[1]}" for kv in a.set)
        script = f"read_verilog -sv {' '.join(SOURCES)}; "
        if chparam:
            script += f"chparam {chparam} {a.synth}; "
        script += f"synth_xilinx -flatten -family xc7 -top {a.synth} -noiopad; stat; write_json {a.netlist}"
        st = subprocess.run(["yosys", "-p", script], cwd=RTL, check=True, capture_output=True, text=True)
        cells = re.findall(r"^\s+(LUT\d|FD\w+|CARRY4|DSP48E1|SRL\w+|RAMB\w+|MUXF\d)\s+(\d+)$", st.stdout, re.M)
        tot = defaultdict(int)
        for k, v in cells[-40:]:
            tot[k] = int(v)
        print("cells:", dict(tot), file=sys.stderr)
    with open(a.netlist, encoding="utf-8") as f:
        net = json.load(f)
    worst = analyse(net, a.top, a.limit)
    for key, (d, origin, types) in sorted(worst.items(), key=lambda kv: -kv[1][0]):
        print(f"{d:4d}  {key}  <-  {origin}  {types}")
    print(f"{len(worst)} destinations deeper than {a.limit}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
