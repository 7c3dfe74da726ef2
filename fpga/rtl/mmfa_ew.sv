// SPDX-License-Identifier: Apache-2.0
// Element-wise datapath: one element per cycle, pipelined over LAT = 3 clocks with at most one
// product per stage (op and gated are held for the whole instruction by the engine). Values are VW-bit Q(VW-F-1).F (52-bit Q23.28); sigmoids arrive as Q0.24
// (0..2^24) from the interpolated ROMs. Every product is rounded half-up to its output format
// and saturated, in exactly the order the golden model (golden/numerics.h) uses: bit-exactness
// depends on that order.
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
  localparam int PW = 2 * VW + 16;   // wide enough for every product below
  localparam int QS = F + 24;

  // yosys 0.23 has no `return`: functions assign their own name.
  function automatic logic [VW-1:0] sat(input logic signed [PW-1:0] v);
    if (v > PW'($signed({1'b0, {(VW-1){1'b1}}}))) sat = {1'b0, {(VW-1){1'b1}}};
    else if (v < PW'($signed({1'b1, {(VW-1){1'b0}}}))) sat = {1'b1, {(VW-1){1'b0}}};
    else sat = v[VW-1:0];
  endfunction

  // (x + 2^(s-1)) >>> s on a full-width product
  function automatic logic signed [PW-1:0] rnd(input logic signed [PW-1:0] v, input int s);
    rnd = (v + (PW'(1) <<< (s - 1))) >>> s;
  endfunction

  function automatic logic [VW-1:0] mulq(input logic [VW-1:0] x, input logic [VW-1:0] y);
    logic signed [PW-1:0] p;
    p = PW'($signed(x)) * PW'($signed(y));
    mulq = sat(rnd(p, F));
  endfunction

  function automatic logic [VW-1:0] mulsig(input logic [VW-1:0] x, input logic [SF:0] s);
    logic signed [PW-1:0] p;
    p = PW'($signed(x)) * PW'($signed({1'b0, s}));
    mulsig = sat(rnd(p, SF));
  endfunction

  localparam logic [VW-1:0] ONE = VW'(1) << F;

  // E1: the first product of every chain, rounded and saturated
  logic [VW-1:0] e1_t1, e1_silu_a, e1_silu_c, e1_fp, e1_mul, e1_add, e1_b, e1_c;
  logic [SF:0]   e1_sig;
  logic [7:0]    e1_q;
  logic signed [PW-1:0] pr, pf;
  logic [VW-1:0] mag, one_m_d;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [VW+QRW:0] qp;  // only the integer part is used
  /* verilator lint_on UNUSEDSIGNAL */
  logic [7:0] qv;
  always_comb begin
    pr = PW'($signed(a)) * PW'($signed({1'b0, rrec}));
    one_m_d = ONE - d;
    pf = PW'($signed(one_m_d)) * PW'($signed({1'b0, sig1}));
    mag = a[VW-1] ? VW'(-$signed(a)) : a;
    qp = (VW+QRW+1)'(mag) * (VW+QRW+1)'(qrecip) + ((VW+QRW+1)'(1) << (QS - 1));
    qv = (qp[VW+QRW:QS] > (VW+QRW+1-QS)'(127)) ? 8'd127 : qp[QS+7:QS];
  end
  always_ff @(posedge clk) begin
    e1_t1 <= sat(rnd(pr, 24));                        // RMS pass 2: a * (1/rms) back to Q.F
    e1_silu_c <= mulsig(c, sig0);
    e1_silu_a <= mulsig(a, sig0);
    e1_fp <= sat(PW'($signed(d)) + rnd(pf, SF));      // MLGRU: f' = lb + (1 - lb) * sigmoid(f)
    e1_mul <= mulq(a, b);
    e1_add <= sat(PW'($signed(a)) + PW'($signed(b)));
    e1_b <= b;
    e1_c <= c;
    e1_sig <= sig0;
    e1_q <= a[VW-1] ? 8'(-$signed(qv)) : qv;          // QUANT: round half away, clamp to 127
  end

  // E2: the second product (h = f'·h + silu(i)·(1 - f') needs two)
  logic [VW-1:0] e2_t2, e2_ci, e2_hh, e2_sw, e2_silu_a, e2_silu_c, e2_mul, e2_add;
  logic [SF:0]   e2_sig;
  logic [7:0]    e2_q;
  always_ff @(posedge clk) begin
    e2_t2 <= mulq(e1_t1, e1_b);
    e2_ci <= mulq(e1_silu_a, ONE - e1_fp);
    e2_hh <= mulq(e1_fp, e1_c);
    e2_sw <= mulq(e1_silu_a, e1_b);
    e2_silu_a <= e1_silu_a;
    e2_silu_c <= e1_silu_c;
    e2_mul <= e1_mul;
    e2_add <= e1_add;
    e2_sig <= e1_sig;
    e2_q <= e1_q;
  end

  // E3: the gated norm's third product, the MLGRU sum, and the op's result
  always_ff @(posedge clk) begin
    case (op)
      8'(mmfa_regs_pkg::OP_RMS):     result <= gated ? mulq(e2_t2, e2_silu_c) : e2_t2;
      8'(mmfa_regs_pkg::OP_ADD):     result <= e2_add;
      8'(mmfa_regs_pkg::OP_MUL):     result <= e2_mul;
      8'(mmfa_regs_pkg::OP_SWIGLU):  result <= e2_sw;
      8'(mmfa_regs_pkg::OP_MLGRU):   result <= sat(PW'($signed(e2_hh)) + PW'($signed(e2_ci)));
      8'(mmfa_regs_pkg::OP_SIGMOID): result <= VW'(e2_sig);
      8'(mmfa_regs_pkg::OP_SILU):    result <= e2_silu_a;
      default:                       result <= '0;
    endcase
    q <= e2_q;
  end
endmodule
