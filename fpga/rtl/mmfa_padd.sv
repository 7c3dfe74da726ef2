// SPDX-License-Identifier: Apache-2.0
// Pipelined adder a + b + cin: SEG bits per clock, the carry registered between segments, so no
// carry chain is longer than SEG bits (a CARRY4 per 4 bits is one cell of logic depth). A new
// operand pair every clock; latency NS = ceil(W / SEG) clocks. The sum wraps to W bits.
module mmfa_padd #(
    parameter int W   = 64,
    parameter int SEG = 32,
    localparam int NS = (W + SEG - 1) / SEG
) (
    input  logic         clk,
    input  logic [W-1:0] a,
    input  logic [W-1:0] b,
    input  logic         cin,
    output logic [W-1:0] sum
);
  /* verilator lint_off UNUSEDSIGNAL */  // the carry out of the top segment wraps away
  logic [NS:0] carry;   // carry[k]: into segment k, on the clock segment k is added
  /* verilator lint_on UNUSEDSIGNAL */
  assign carry[0] = cin;
  for (genvar k = 0; k < NS; k++) begin : g_seg
    localparam int LO = k * SEG;
    localparam int SW = (W - LO < SEG) ? W - LO : SEG;
    logic [SW-1:0] da, db, r;
    logic c;
    // segment k's operands wait k clocks for the carry from below
    mmfa_delay #(.W(2 * SW), .N(k)) u_in (.clk(clk), .d({a[LO +: SW], b[LO +: SW]}), .q({da, db}));
    always_ff @(posedge clk) {c, r} <= {1'b0, da} + {1'b0, db} + (SW+1)'(carry[k]);
    assign carry[k+1] = c;
    // and its sum waits for the segments above
    mmfa_delay #(.W(SW), .N(NS - 1 - k)) u_out (.clk(clk), .d(r), .q(sum[LO +: SW]));
  end
endmodule
