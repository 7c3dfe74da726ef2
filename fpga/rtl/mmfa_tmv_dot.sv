// SPDX-License-Identifier: Apache-2.0
// One beat of the ternary mat-vec: LANES int8 activations times LANES 2-bit weight codes.
// No multipliers: code bit0 = non-zero, bit1 = negative (2'b10 is reserved and reads as 0).
// A negative weight contributes ~a (= -a - 1); the missing +1s are added back as a popcount,
// which is cheaper than a per-lane negation (an adder per lane).
module mmfa_tmv_dot #(
    parameter int LANES = 64,
    parameter int CW = $clog2(LANES) + 2
) (
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

  mmfa_addtree #(.N(LANES), .IW(9), .OW(SW)) u_terms (.in(terms), .sum(tsum));
  mmfa_addtree #(.N(LANES), .IW(2), .OW($clog2(LANES) + 2)) u_neg (.in(negbits), .sum(ncount));
  mmfa_addtree #(.N(LANES), .IW(2), .OW($clog2(LANES) + 2)) u_nz (.in(nzbits), .sum(zcount));
  assign nonzero = zcount;

  assign dot = 32'($signed(tsum)) + 32'(ncount);
endmodule
