// SPDX-License-Identifier: Apache-2.0
// Pipelined y = sat_OW((a * b + x + 2^(SH-1)) >>> SH): a signed product plus a signed addend,
// rounded half-up by SH bits and saturated to OW signed bits, exactly as golden/numerics.h's
// satv(rnd(...)) on exact integers. mmfa_mulcs forms it carry-save, mmfa_padd adds the pair in
// 32-bit segments, then it is saturated: no stage holds more than a short carry chain. Latency LAT clocks
// (at least 3 + ceil(PW / 32)); a new operand set every clock.
module mmfa_mulrs #(
    parameter int AW  = 18,
    parameter int BW  = 25,
    parameter int XW  = 1,    // addend width (signed)
    parameter int SH  = 1,    // >= 1
    parameter int OW  = 16,
    parameter int LAT = 7
) (
    input  logic          clk,
    input  logic [AW-1:0] a,
    input  logic [BW-1:0] b,
    input  logic [XW-1:0] x,
    output logic [OW-1:0] y
);
  localparam int PW = ((AW + BW > XW) ? AW + BW : XW) + 1;
  localparam int SEG = 32;
  localparam int NS = (PW + SEG - 1) / SEG;
  localparam int RW = PW - SH;

  logic [PW-1:0] cs_s1, cs_c1;
  mmfa_mulcs #(.AW(AW), .BW(BW), .XW(XW), .SH(SH), .PW(PW)) u_pp (.clk(clk), .a(a), .b(b), .x(x), .s(cs_s1), .c(cs_c1));

  /* verilator lint_off UNUSEDSIGNAL */  // the bits below SH are rounded away
  logic [PW-1:0] p_sum;
  /* verilator lint_on UNUSEDSIGNAL */
  mmfa_padd #(.W(PW), .SEG(SEG)) u_add (.clk(clk), .a(cs_s1), .b(cs_c1), .cin(1'b0), .sum(p_sum));

  // saturate: the bits above OW-1 must all equal the sign
  logic [RW-1:0] r;
  logic hi, lo;
  logic [OW-1:0] ys;
  assign r = p_sum[PW-1:SH];
  assign hi = !r[RW-1] && (r[RW-2:OW-1] != '0);
  assign lo = r[RW-1] && (r[RW-2:OW-1] != '1);
  always_ff @(posedge clk) ys <= hi ? {1'b0, {(OW-1){1'b1}}} : lo ? {1'b1, {(OW-1){1'b0}}} : r[OW-1:0];
  mmfa_delay #(.W(OW), .N(LAT - 3 - NS)) u_pad (.clk(clk), .d(ys), .q(y));
endmodule
