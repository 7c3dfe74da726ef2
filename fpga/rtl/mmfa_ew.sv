// SPDX-License-Identifier: Apache-2.0
// Element-wise datapath: one element per cycle, purely combinational (the engine registers
// around it). Values are int32 Q15.16; sigmoids arrive as Q0.16 (0..65536) from the ROMs.
// Every product is rounded half-up to its output format and saturated, in exactly the order
// the golden model (golden/numerics.h) uses: bit-exactness depends on that order.
module mmfa_ew (
    input  logic [7:0]  op,
    input  logic        gated,
    input  logic [31:0] a,
    input  logic [31:0] b,
    input  logic [31:0] c,
    input  logic [31:0] d,
    input  logic [16:0] sig0,    // sigmoid(c) for RMS, sigmoid(a) otherwise
    input  logic [16:0] sig1,    // sigmoid(b)
    input  logic [48:0] rrec,    // 1/rms, Q.24
    input  logic [38:0] qrecip,  // floor(127 * 2^32 / absmax)
    output logic [31:0] result,
    output logic [7:0]  q        // QUANT output
);
  localparam logic signed [31:0] MAXV = 32'sh7fffffff;
  localparam logic signed [31:0] MINV = 32'sh80000000;

  // yosys 0.23 has no `return`: functions assign their own name.
  function automatic logic [31:0] sat(input logic signed [95:0] v);
    if (v > 96'(MAXV)) sat = MAXV;
    else if (v < 96'(MINV)) sat = MINV;
    else sat = v[31:0];
  endfunction

  // rnd16(x) = (x + 2^15) >>> 16 on a full-width product
  function automatic logic signed [95:0] rnd16(input logic signed [95:0] v);
    rnd16 = (v + 96'sd32768) >>> 16;
  endfunction

  function automatic logic [31:0] mulq(input logic [31:0] x, input logic [31:0] y);
    logic signed [63:0] p;
    p = $signed(x) * $signed(y);
    mulq = sat(rnd16(96'(p)));
  endfunction

  function automatic logic [31:0] mulsig(input logic [31:0] x, input logic [16:0] s);
    logic signed [49:0] p;
    p = $signed(x) * $signed({1'b0, s});
    mulsig = sat(rnd16(96'(p)));
  endfunction

  logic [31:0] t1, t2, silu_a, silu_c, fp, ci, inc, hh, one_m_d, one_m_fp;
  logic signed [81:0] pr;
  logic signed [50:0] pf;
  logic [31:0] mag;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [70:0] qp;  // only the integer part [70:32] is used
  /* verilator lint_on UNUSEDSIGNAL */
  logic [31:0] qv;

  always_comb begin
    // RMS pass 2: a * (1/rms) back to Q15.16, times gamma, optionally gated
    pr = $signed(a) * $signed({1'b0, rrec});
    t1 = sat((96'(pr) + 96'sd8388608) >>> 24);
    t2 = mulq(t1, b);
    silu_c = mulsig(c, sig0);
    silu_a = mulsig(a, sig0);
    // MLGRU: f' = lb + (1 - lb) * sigmoid(f); h = f' * h + silu(i) * (1 - f')
    one_m_d = 32'sd65536 - $signed(d);
    pf = $signed(one_m_d) * $signed({1'b0, sig1});
    fp = sat(96'($signed(d)) + rnd16(96'(pf)));
    one_m_fp = 32'sd65536 - $signed(fp);
    ci = mulq(silu_a, one_m_fp);
    hh = mulq(fp, c);
    inc = sat(96'($signed(hh)) + 96'($signed(ci)));
    // QUANT: round half away from zero of |a| * 127 / absmax, clamped to 127
    mag = a[31] ? 32'(-$signed(a)) : a;
    qp = 71'(mag) * 71'(qrecip) + 71'(64'h80000000);
    qv = (qp[70:32] > 39'd127) ? 32'd127 : 32'(qp[70:32]);
    q = a[31] ? 8'(-$signed(qv)) : qv[7:0];

    case (op)
      8'(mmfa_regs_pkg::OP_RMS):     result = gated ? mulq(t2, silu_c) : t2;
      8'(mmfa_regs_pkg::OP_ADD):     result = sat(96'($signed(a)) + 96'($signed(b)));
      8'(mmfa_regs_pkg::OP_MUL):     result = mulq(a, b);
      8'(mmfa_regs_pkg::OP_SWIGLU):  result = mulq(silu_a, b);
      8'(mmfa_regs_pkg::OP_MLGRU):   result = inc;
      8'(mmfa_regs_pkg::OP_SIGMOID): result = 32'(sig0);
      8'(mmfa_regs_pkg::OP_SILU):    result = silu_a;
      default:                       result = 32'd0;
    endcase
  end
endmodule
