// SPDX-License-Identifier: Apache-2.0
// One beat of the ternary mat-vec: LANES int8 activations times LANES 2-bit weight codes.
// No multipliers: code bit0 = non-zero, bit1 = negative (2'b10 is reserved and reads as 0).
// A negative weight contributes ~a (= -a - 1); the missing +1s are added back as a popcount,
// which is cheaper than a per-lane negation (an adder per lane). Pipelined: two adder levels per
// clock, then the popcount correction: $clog2(LANES) / 2 + 1 cycles from inputs to dot
// (mmfa_engine's DL).
module mmfa_tmv_dot #(
    parameter int LANES = 64,
    parameter int CW = $clog2(LANES) + 2
) (
    input  logic               clk,
    input  logic [2*LANES-1:0] codes,
    input  logic [8*LANES-1:0] act,
    output logic [31:0]        dot,      // sign-extended, |dot| <= 128 * LANES
    output logic [CW-1:0]      nonzero   // non-zero weights in this beat (telemetry)
);
  localparam int SW = 9 + $clog2(LANES);
  logic [9*LANES-1:0] terms;
  logic [2*LANES-1:0] negbits;
  logic [2*LANES-1:0] nzbits;
  logic [SW-1:0] tsum;
  logic [$clog2(LANES)+1:0] ncount;
  logic [CW-1:0] zcount;

  always_comb begin
    for (int i = 0; i < LANES; i++) begin
      logic nz, ng;
      logic [8:0] a9;
      nz = codes[2*i];
      ng = codes[2*i+1];
      a9 = {act[8*i+7], act[8*i +: 8]};
      terms[9*i +: 9] = nz ? (ng ? ~a9 : a9) : 9'd0;
      negbits[2*i +: 2] = {1'b0, nz & ng};
      nzbits[2*i +: 2] = {1'b0, nz};
    end
  end

  mmfa_addtree #(.N(LANES), .IW(9), .OW(SW), .PIPE(1)) u_terms (.clk(clk), .in(terms), .sum(tsum));
  mmfa_addtree #(.N(LANES), .IW(2), .OW($clog2(LANES) + 2), .PIPE(1)) u_neg (.clk(clk), .in(negbits), .sum(ncount));
  mmfa_addtree #(.N(LANES), .IW(2), .OW($clog2(LANES) + 2), .PIPE(1)) u_nz (.clk(clk), .in(nzbits), .sum(zcount));

  // the correction is SW+1 bits wide, then sign-extended: no 32-bit carry chain
  logic [SW:0] dsum;
  always_ff @(posedge clk) begin
    dsum <= (SW+1)'($signed(tsum)) + (SW+1)'(ncount);
    nonzero <= zcount;
  end
  assign dot = 32'($signed(dsum));
endmodule
