// SPDX-License-Identifier: Apache-2.0
// Element-wise datapath: one element per cycle, purely combinational (the engine registers
// around it). Values are VW-bit Q(VW-F-1).F (52-bit Q23.28); sigmoids arrive as Q0.24
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

  logic [VW-1:0] t1, t2, silu_a, silu_c, fp, ci, inc, hh, one_m_d, one_m_fp;
  logic signed [PW-1:0] pr, pf;
  logic [VW-1:0] mag;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [VW+QRW:0] qp;  // only the integer part is used
  /* verilator lint_on UNUSEDSIGNAL */
  logic [7:0] qv;
  localparam logic [VW-1:0] ONE = VW'(1) << F;

  always_comb begin
    // RMS pass 2: a * (1/rms) back to Q.F, times gamma, optionally gated
    pr = PW'($signed(a)) * PW'($signed({1'b0, rrec}));
    t1 = sat(rnd(pr, 24));
    t2 = mulq(t1, b);
    silu_c = mulsig(c, sig0);
    silu_a = mulsig(a, sig0);
    // MLGRU: f' = lb + (1 - lb) * sigmoid(f); h = f' * h + silu(i) * (1 - f')
    one_m_d = ONE - d;
    pf = PW'($signed(one_m_d)) * PW'($signed({1'b0, sig1}));
    fp = sat(PW'($signed(d)) + rnd(pf, SF));
    one_m_fp = ONE - fp;
    ci = mulq(silu_a, one_m_fp);
    hh = mulq(fp, c);
    inc = sat(PW'($signed(hh)) + PW'($signed(ci)));
    // QUANT: round half away from zero of |a| * 127 / absmax, clamped to 127
    mag = a[VW-1] ? VW'(-$signed(a)) : a;
    qp = (VW+QRW+1)'(mag) * (VW+QRW+1)'(qrecip) + ((VW+QRW+1)'(1) << (QS - 1));
    qv = (qp[VW+QRW:QS] > (VW+QRW+1-QS)'(127)) ? 8'd127 : qp[QS+7:QS];
    q = a[VW-1] ? 8'(-$signed(qv)) : qv;

    case (op)
      8'(mmfa_regs_pkg::OP_RMS):     result = gated ? mulq(t2, silu_c) : t2;
      8'(mmfa_regs_pkg::OP_ADD):     result = sat(PW'($signed(a)) + PW'($signed(b)));
      8'(mmfa_regs_pkg::OP_MUL):     result = mulq(a, b);
      8'(mmfa_regs_pkg::OP_SWIGLU):  result = mulq(silu_a, b);
      8'(mmfa_regs_pkg::OP_MLGRU):   result = inc;
      8'(mmfa_regs_pkg::OP_SIGMOID): result = VW'(sig0);
      8'(mmfa_regs_pkg::OP_SILU):    result = silu_a;
      default:                       result = '0;
    endcase
  end
endmodule
