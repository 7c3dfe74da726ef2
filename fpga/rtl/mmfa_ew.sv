// SPDX-License-Identifier: Apache-2.0
// Element-wise datapath: one element per cycle, pipelined over LAT = 26 clocks. Values are VW-bit
// Q(VW-F-1).F (52-bit Q23.28); sigmoids arrive as Q0.24 (0..2^24) from the interpolated ROMs.
// Every product is rounded half-up to its output format and saturated, in exactly the order the
// golden model (golden/numerics.h) uses: bit-exactness depends on that order. The products are
// mmfa_mulrs units (DSP partial products, carry-save, 32-bit carry segments) and the wide adds
// mmfa_padd, so no clock holds more than a short carry chain; op and gated are held for the
// whole instruction by the engine. Schedule (clock the value is ready):
//   0 operands; 2 1 - lb; 9 the first products (1/rms scaling, SiLUs, f', a*b, QUANT);
//   11 1 - f'; 18 the second products; 21 the MLGRU sum; 25 the gated norm's third product;
//   26 the op's result (and QUANT's int8).
module mmfa_ew #(
    parameter int VW  = 52,   // vector element bits
    parameter int F   = 28,   // fractional bits
    parameter int SF  = 24,   // sigmoid fractional bits
    parameter int RB  = 61,   // 1/rms width (Q.24)
    parameter int QRW = 59    // 127/absmax reciprocal width (Q.(F+24))
) (
    input  logic          clk,
    input  logic [7:0]    op,
    input  logic          gated,
    input  logic [VW-1:0] a,
    input  logic [VW-1:0] b,
    input  logic [VW-1:0] c,
    input  logic [VW-1:0] d,
    input  logic [SF:0]   sig0,    // sigmoid(c) for RMS, sigmoid(a) otherwise
    input  logic [SF:0]   sig1,    // sigmoid(b)
    input  logic [RB-1:0] rrec,    // 1/rms, Q.24
    input  logic [QRW-1:0] qrecip, // floor(127 * 2^(F+24) / absmax)
    output logic [VW-1:0] result,
    output logic [7:0]    q        // QUANT output
);
  localparam int QS = F + 24;
  localparam int LM = 7;          // mmfa_mulrs latency
  localparam int LA = 2;          // mmfa_padd latency at VW + 1 bits
  localparam int TA = LA + LM;    // first products
  localparam int TB = TA + LA + LM;
  localparam int TC = TB + LM;
  localparam logic [VW-1:0] ONE = VW'(1) << F;
  localparam logic [VW-1:0] VMAX = {1'b0, {(VW-1){1'b1}}};
  localparam logic [VW-1:0] VMIN = {1'b1, {(VW-1){1'b0}}};

  // sat(x + y) of two VW-bit values: a VW+1-bit pipelined add, then the overflow check
  function automatic logic [VW-1:0] sat1(input logic [VW:0] s);
    if (s[VW] != s[VW-1]) sat1 = s[VW] ? VMIN : VMAX;
    else sat1 = s[VW-1:0];
  endfunction

  // ---- clock 0 -> LA: 1 - lb (wraps to VW bits, as golden wrapv), a + b
  logic [VW-1:0] one_m_d;
  logic [VW:0]   add_s;
  mmfa_padd #(.W(VW)) u_omd (.clk(clk), .a(ONE), .b(~d), .cin(1'b1), .sum(one_m_d));
  mmfa_padd #(.W(VW+1)) u_addab (.clk(clk), .a({a[VW-1], a}), .b({b[VW-1], b}), .cin(1'b0), .sum(add_s));
  logic [VW-1:0] add_r;
  always_ff @(posedge clk) add_r <= sat1(add_s);   // clock LA + 1

  // ---- the first products start at LA
  logic [VW-1:0] a2, c2, d2, b2;
  logic [SF:0]   s0_2, s1_2;
  mmfa_delay #(.W(4 * VW + 2 * (SF + 1)), .N(LA)) u_d2 (.clk(clk), .d({a, b, c, d, sig0, sig1}),
                                                      .q({a2, b2, c2, d2, s0_2, s1_2}));
  logic [VW-1:0] t1, silu_c, silu_a, fp, mul;
  logic [7:0]    qmag;
  mmfa_mulrs #(.AW(VW), .BW(RB+1), .XW(1), .SH(24), .OW(VW), .LAT(LM)) u_t1 (
      .clk(clk), .a(a2), .b({1'b0, rrec}), .x(1'b0), .y(t1));                       // RMS: a * (1/rms)
  mmfa_mulrs #(.AW(SF+2), .BW(VW), .XW(1), .SH(SF), .OW(VW), .LAT(LM)) u_silu_c (
      .clk(clk), .a({1'b0, s0_2}), .b(c2), .x(1'b0), .y(silu_c));
  mmfa_mulrs #(.AW(SF+2), .BW(VW), .XW(1), .SH(SF), .OW(VW), .LAT(LM)) u_silu_a (
      .clk(clk), .a({1'b0, s0_2}), .b(a2), .x(1'b0), .y(silu_a));
  // MLGRU: f' = lb + (1 - lb) * sigmoid(f) = rnd((1 - lb) * sigmoid(f) + lb * 2^SF, SF)
  mmfa_mulrs #(.AW(SF+2), .BW(VW), .XW(VW+SF), .SH(SF), .OW(VW), .LAT(LM)) u_fp (
      .clk(clk), .a({1'b0, s1_2}), .b(one_m_d), .x({d2, {SF{1'b0}}}), .y(fp));
  mmfa_mulrs #(.AW(VW), .BW(VW), .XW(1), .SH(F), .OW(VW), .LAT(LM)) u_mul (
      .clk(clk), .a(a2), .b(b2), .x(1'b0), .y(mul));
  // QUANT: |a| * recip + 2^(QS-1) >> QS, clamped to 127 (a saturation to 8 signed bits, as the
  // value is never negative); |a| = (a ^ sign) + sign, the + sign * recip rides as the addend
  logic sgn2;
  assign sgn2 = a2[VW-1];
  mmfa_mulrs #(.AW(VW+1), .BW(QRW+1), .XW(QRW+1), .SH(QS), .OW(8), .LAT(LM)) u_q (
      .clk(clk), .a({1'b0, a2 ^ {VW{sgn2}}}), .b({1'b0, qrecip}), .x(sgn2 ? {1'b0, qrecip} : '0), .y(qmag));
  logic sgn_a;
  mmfa_delay #(.W(1), .N(LM)) u_dsgn (.clk(clk), .d(sgn2), .q(sgn_a));
  logic [7:0] q_a;
  always_ff @(posedge clk) q_a <= sgn_a ? 8'(-$signed(qmag)) : qmag;   // clock TA + 1
  mmfa_delay #(.W(8), .N(TC - TA)) u_dq (.clk(clk), .d(q_a), .q(q));

  // ---- the second products start at TA + LA (after 1 - f')
  logic [VW-1:0] one_m_fp;
  mmfa_padd #(.W(VW)) u_omf (.clk(clk), .a(ONE), .b(~fp), .cin(1'b1), .sum(one_m_fp));
  logic [VW-1:0] t1_b, sa_b, fp_b, b_b, c_b;
  mmfa_delay #(.W(3 * VW), .N(LA)) u_db1 (.clk(clk), .d({t1, silu_a, fp}), .q({t1_b, sa_b, fp_b}));
  mmfa_delay #(.W(2 * VW), .N(TA)) u_db2 (.clk(clk), .d({b2, c2}), .q({b_b, c_b}));
  logic [VW-1:0] t2, hh, sw, ci;
  mmfa_mulrs #(.AW(VW), .BW(VW), .XW(1), .SH(F), .OW(VW), .LAT(LM)) u_t2 (
      .clk(clk), .a(t1_b), .b(b_b), .x(1'b0), .y(t2));                               // RMS: * gamma
  mmfa_mulrs #(.AW(VW), .BW(VW), .XW(1), .SH(F), .OW(VW), .LAT(LM)) u_hh (
      .clk(clk), .a(fp_b), .b(c_b), .x(1'b0), .y(hh));                               // MLGRU: f' * h
  mmfa_mulrs #(.AW(VW), .BW(VW), .XW(1), .SH(F), .OW(VW), .LAT(LM)) u_ci (
      .clk(clk), .a(sa_b), .b(one_m_fp), .x(1'b0), .y(ci));                          // silu(i) * (1 - f')
  mmfa_mulrs #(.AW(VW), .BW(VW), .XW(1), .SH(F), .OW(VW), .LAT(LM)) u_sw (
      .clk(clk), .a(sa_b), .b(b_b), .x(1'b0), .y(sw));                               // SwiGLU

  // ---- the third step starts at TB: the gated norm's product, the MLGRU sum
  logic [VW-1:0] sc_c, gt;
  mmfa_delay #(.W(VW), .N(TB - TA)) u_dsc (.clk(clk), .d(silu_c), .q(sc_c));
  mmfa_mulrs #(.AW(VW), .BW(VW), .XW(1), .SH(F), .OW(VW), .LAT(LM)) u_g (
      .clk(clk), .a(t2), .b(sc_c), .x(1'b0), .y(gt));
  logic [VW:0] hs;
  logic [VW-1:0] hsum, h_c;
  mmfa_padd #(.W(VW+1)) u_hsum (.clk(clk), .a({hh[VW-1], hh}), .b({ci[VW-1], ci}), .cin(1'b0), .sum(hs));
  always_ff @(posedge clk) hsum <= sat1(hs);   // clock TB + LA + 1
  mmfa_delay #(.W(VW), .N(TC - TB - LA - 1)) u_dh (.clk(clk), .d(hsum), .q(h_c));

  // ---- everything else waits for TC
  logic [VW-1:0] t2_c, add_c, mul_c, sw_c, sa_c;
  logic [SF:0]   sig_c;
  mmfa_delay #(.W(2 * VW), .N(TC - TB)) u_dcb (.clk(clk), .d({t2, sw}), .q({t2_c, sw_c}));
  mmfa_delay #(.W(2 * VW), .N(TC - TA)) u_dca (.clk(clk), .d({mul, silu_a}), .q({mul_c, sa_c}));
  mmfa_delay #(.W(VW), .N(TC - LA - 1)) u_dcadd (.clk(clk), .d(add_r), .q(add_c));
  mmfa_delay #(.W(SF + 1), .N(TC)) u_dcsig (.clk(clk), .d(sig0), .q(sig_c));

  always_ff @(posedge clk) begin
    case (op)
      8'(mmfa_regs_pkg::OP_RMS):     result <= gated ? gt : t2_c;
      8'(mmfa_regs_pkg::OP_ADD):     result <= add_c;
      8'(mmfa_regs_pkg::OP_MUL):     result <= mul_c;
      8'(mmfa_regs_pkg::OP_SWIGLU):  result <= sw_c;
      8'(mmfa_regs_pkg::OP_MLGRU):   result <= h_c;
      8'(mmfa_regs_pkg::OP_SIGMOID): result <= VW'(sig_c);
      8'(mmfa_regs_pkg::OP_SILU):    result <= sa_c;
      default:                       result <= '0;
    endcase
  end
endmodule
