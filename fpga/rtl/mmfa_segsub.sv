// SPDX-License-Identifier: Apache-2.0
// a - b over W bits, cut into NS segments of SEG bits whose borrows are registered: with a and b
// held stable, segment k's difference is exact from the k-th clock on, so on clock NS-1 the whole
// difference and the borrow out (a < b) are, and no clock holds a borrow chain longer than SEG
// bits. The compare-subtract of each divider and isqrt step.
module mmfa_segsub #(
    parameter int W   = 81,
    parameter int SEG = 32,
    localparam int NS = (W + SEG - 1) / SEG
) (
    input  logic         clk,
    input  logic [W-1:0] a,
    input  logic [W-1:0] b,
    output logic [W-1:0] diff,
    output logic         borrow
);
  /* verilator lint_off UNUSEDSIGNAL */  // bw[0] is the constant 0 (kept for the indexing)
  logic [NS:0] bw;          // bw[k]: borrow out of segment k-1
  /* verilator lint_on UNUSEDSIGNAL */
  logic [NS-1:1] bw_q;      // registered borrows
  assign bw[0] = 1'b0;
  for (genvar k = 0; k < NS; k++) begin : g_seg
    localparam int LO = k * SEG;
    localparam int SW = (W - LO < SEG) ? W - LO : SEG;
    logic [SW:0] d;
    logic bin;
    if (k == 0) begin : g_b0
      assign bin = 1'b0;
    end else begin : g_bk
      assign bin = bw_q[k];
      always_ff @(posedge clk) bw_q[k] <= bw[k];
    end
    assign d = {1'b0, a[LO +: SW]} - {1'b0, b[LO +: SW]} - (SW+1)'(bin);
    assign diff[LO +: SW] = d[SW-1:0];
    assign bw[k+1] = d[SW];
  end
  assign borrow = bw[NS];
endmodule
