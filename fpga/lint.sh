#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# RTL lint gate: the design must be clean in all three tools Debian ships, because each accepts
# a different SystemVerilog subset (see FPGA_NOTES.md 2.4). Also checks generated files are fresh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rtl="$here/rtl"
src="$rtl/mmfa_regs_pkg.sv $rtl/mmfa_cnt64.sv $rtl/mmfa_gt.sv $rtl/mmfa_delay.sv $rtl/mmfa_padd.sv $rtl/mmfa_segsub.sv $rtl/mmfa_csa.sv $rtl/mmfa_mulcs.sv $rtl/mmfa_mulrs.sv $rtl/mmfa_addtree.sv $rtl/mmfa_tmv_dot.sv $rtl/mmfa_divider.sv $rtl/mmfa_isqrt.sv
     $rtl/mmfa_sigmoid_rom.sv $rtl/mmfa_ew.sv $rtl/mmfa_engine.sv $rtl/mmfa_top.sv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$here/regs/gen_regs.py" --check
python3 "$here/rtl/gen_sigmoid_rom.py" --check

echo "verilator --lint-only -Wall"
verilator --lint-only -Wall -I"$rtl" $src --top-module mmfa_top
verilator --lint-only -Wall -I"$rtl" $src --top-module mmfa_top -GLANES=256 -GDMAX=8192 -GPROG_DEPTH=4096

echo "iverilog -g2012"
# iverilog's "sorry: constant selects in always_*" notes are harmless (sensitivity lists only)
iverilog -g2012 -I"$rtl" -s mmfa_top -o "$tmp/top.vvp" $src 2>"$tmp/iv.log" || { cat "$tmp/iv.log"; exit 1; }
if grep -v "sorry: constant selects" "$tmp/iv.log" | grep -q .; then cat "$tmp/iv.log"; exit 1; fi

echo "yosys read_verilog -sv"
cd "$rtl"
src1=$(echo $src)
yosys -q -l "$tmp/ys.log" -p "read_verilog -sv $src1; hierarchy -check -top mmfa_top; proc; check -assert" >/dev/null
echo "lint: clean"
