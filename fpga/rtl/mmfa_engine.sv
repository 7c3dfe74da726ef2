// SPDX-License-Identifier: Apache-2.0
// MMFA engine: descriptor ring walker, microcode sequencer and datapath control.
//
// One RUN descriptor executes a whole token's microcode (all layers, final norm, lm_head,
// argmax), so the host rings one doorbell per token. Vector registers are NV separate
// block-RAM banks that all read the same element index each cycle, so an element-wise op can
// take up to four operands without extra ports. The card-memory port is an AXI4 master
// (INCR bursts of up to BURST_BEATS, one ID, in-order), MW = 2*LANES bits wide so a weight
// beat carries exactly one code per lane.
module mmfa_engine #(
    parameter int LANES      = 64,
    parameter int NV         = 8,
    parameter int DMAX       = 1024,
    parameter int PROG_DEPTH = 1024,
    localparam int MW        = 2 * LANES,
    localparam int CW        = $clog2(LANES) + 2
) (
    input  logic          clk,
    input  logic          rst,        // power-on reset
    input  logic          soft_rst,   // CTRL.SOFT_RESET: abort, drain the bus, clear pointers

    input  logic          run_en,
    input  logic [31:0]   ring_base,
    input  logic [15:0]   ring_mask,
    input  logic [15:0]   tail,
    output logic [15:0]   head,
    output logic [15:0]   comp_seq,
    output logic          error,
    output logic [7:0]    err_code,
    output logic [15:0]   err_desc,
    output logic [15:0]   err_pc,
    output logic          idle,
    output logic [31:0]   argmax_idx,
    output logic [31:0]   argmax_val,

    // telemetry events, one cycle each
    output logic          ev_desc_done,
    output logic          ev_token_done,
    output logic [31:0]   ev_token_cycles,
    output logic          ev_snapshot,
    output logic          ev_tmv,
    output logic          ev_ew,
    output logic          ev_ew_elem,
    output logic          ev_stall,
    output logic          ev_weight_beat,
    output logic          ev_other_beat,
    output logic [CW-1:0] ev_nonzero,

    // AXI4 master to card memory
    output logic [31:0]   m_axi_araddr,
    output logic [7:0]    m_axi_arlen,
    output logic          m_axi_arvalid,
    input  logic          m_axi_arready,
    input  logic [MW-1:0] m_axi_rdata,
    input  logic [1:0]    m_axi_rresp,
    /* verilator lint_off UNUSEDSIGNAL */  // beats are counted, one ID, in order
    input  logic          m_axi_rlast,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic          m_axi_rvalid,
    output logic          m_axi_rready,
    output logic [31:0]   m_axi_awaddr,
    output logic [7:0]    m_axi_awlen,
    output logic          m_axi_awvalid,
    input  logic          m_axi_awready,
    output logic [MW-1:0] m_axi_wdata,
    output logic [MW/8-1:0] m_axi_wstrb,
    output logic          m_axi_wlast,
    output logic          m_axi_wvalid,
    input  logic          m_axi_wready,
    input  logic [1:0]    m_axi_bresp,
    input  logic          m_axi_bvalid,
    output logic          m_axi_bready
);
  localparam int BB    = MW / 8;             // bytes per beat
  localparam int WPB   = MW / 32;            // 32-bit words per beat (microcode)
  localparam int EPB   = MW / 64;            // 64-bit vector words per beat (LOADV / STOREV)
  localparam int VW    = mmfa_regs_pkg::VEC_BITS;
  localparam int F     = mmfa_regs_pkg::FRAC_BITS;
  localparam int SF    = mmfa_regs_pkg::SIG_FRAC;
  localparam int SSH   = F + 5 - mmfa_regs_pkg::SIG_ROM_BITS;   // input bits inside one sigmoid segment
  localparam int QRW   = F + 31;             // 127 * 2^(F+24) / absmax
  localparam int RB    = F + 33;             // 2^(F+32) / sqrt, Q.24
  localparam int DW    = 2 * VW + 16;        // divider / isqrt width: (mean + eps) << 16
  localparam int SQW   = 2 * VW + 12;        // sum of squares over DMAX elements
  localparam int TPW   = VW + 16;            // absmax * m/127 * 2^16, m/127 < 1
  localparam int IPB   = MW / 128;           // instructions per beat
  localparam int VB    = $clog2(NV);
  localparam int IB    = $clog2(DMAX);
  localparam int AB    = $clog2(DMAX / LANES);
  localparam int PB    = $clog2(PROG_DEPTH);
  localparam int BURST = mmfa_regs_pkg::BURST_BEATS;
  localparam int SIGB  = mmfa_regs_pkg::SIG_ROM_BITS;

  typedef enum logic [4:0] {
    S_IDLE, S_DESC, S_LDPROG, S_FETCH, S_DECODE, S_LOADV, S_ST_AW, S_ST_FILL, S_ST_W, S_ST_B,
    S_TMV, S_EW, S_QDIV, S_RDIV1, S_RADD, S_RSQRT, S_RDIV2, S_COMPLETE, S_ERROR, S_DRAIN, S_LATCH
  } state_t;
  typedef enum logic [1:0] {K_SUMSQ, K_OUT, K_QUANT, K_ARGMAX} kind_t;

  state_t state;
  kind_t  kind;

  // ---------------- descriptor / instruction registers
  logic [7:0]   d_flags;
  logic [15:0]  d_seq;
  logic [15:0]  pc;
  logic [31:0]  arg;
  /* verilator lint_off UNUSEDSIGNAL */  // reserved instruction bits
  logic [127:0] ins;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [7:0]   i_op, i_dst, i_a, i_b, i_c, i_d, i_flags;
  logic [15:0]  i_len, i_aux;
  logic [31:0]  i_imm;
  assign i_op = ins[7:0];
  assign i_dst = ins[15:8];
  assign i_a = ins[23:16];
  assign i_b = ins[31:24];
  assign i_c = ins[39:32];
  assign i_d = ins[47:40];
  assign i_flags = ins[55:48];
  assign i_len = ins[79:64];
  assign i_aux = ins[95:80];
  assign i_imm = ins[127:96];
  logic [15:0]  i_len_m1, i_aux_m1;   // registered with the instruction: no subtract before a compare
  logic [31:0] i_addr;
  assign i_addr = i_imm + (i_flags[mmfa_regs_pkg::IFLAG_REL_BIT] ? arg : 32'd0);

  // ---------------- scalar state
  logic [VW-1:0]  amax;     // max |value| written by the current/last vector op
  logic [VW-1:0]  qm;       // absmax latched by QUANT
  logic [QRW-1:0] qrecip;   // floor(127 * 2^(F+24) / qm)
  logic [31:0]    mq;       // SCALE: m/127 = mq * 2^-(32 + mq_shift)
  logic [5:0]     mq_shift;
  logic [TPW-1:0] tp;       // TMV dequant factor rnd(qm * mq, 16 + mq_shift)
  logic [RB-1:0]  rrec;     // RMS 1/rms, Q.24
  logic [SQW-1:0] sumsq;
  logic [VW-1:0]  best;

  // ---------------- vector register banks
  logic          vw_en;
  logic [VB-1:0] vw_sel;
  logic [IB-1:0] vw_addr;
  logic [VW-1:0] vw_data;
  logic [IB-1:0] vr_addr;
  logic [NV*VW-1:0] vr_q;
  for (genvar v = 0; v < NV; v++) begin : g_bank
    logic [VW-1:0] mem [0:DMAX-1];
    always_ff @(posedge clk) begin
      if (vw_en && vw_sel == VB'(v)) mem[vw_addr] <= vw_data;
      vr_q[VW*v +: VW] <= mem[vr_addr];
    end
  end

  // ---------------- microcode store: 4 word banks so one 128-bit instruction reads per cycle
  logic          pw_en;
  logic [1:0]    pw_bank;
  logic [PB-1:0] pw_addr;
  logic [31:0]   pw_data;
  logic [127:0]  p_q;
  for (genvar b = 0; b < 4; b++) begin : g_prog
    logic [31:0] mem [0:PROG_DEPTH-1];
    always_ff @(posedge clk) begin
      if (pw_en && pw_bank == 2'(b)) mem[pw_addr] <= pw_data;
      p_q[32*b +: 32] <= mem[pc[PB-1:0]];
    end
  end

  // ---------------- int8 activation buffer (LANES bytes per word)
  logic               aw_en;
  logic [AB-1:0]      aw_addr;
  logic [8*LANES-1:0] aw_data;
  logic [AB-1:0]      ar_addr;
  logic [8*LANES-1:0] ar_q;
  logic [8*LANES-1:0] amem [0:(DMAX/LANES)-1];
  always_ff @(posedge clk) begin
    if (aw_en) amem[aw_addr] <= aw_data;
    ar_q <= amem[ar_addr];
  end

  // ---------------- scalar units
  /* verilator lint_off UNUSEDSIGNAL */  // busy is implied by the FSM state
  logic        div_start, div_busy, div_done;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [DW-1:0] div_num, div_den, div_quo;
  mmfa_divider #(.W(DW)) u_div (.clk(clk), .rst(rst), .start(div_start), .num(div_num), .den(div_den),
                               .busy(div_busy), .done(div_done), .quo(div_quo));
  /* verilator lint_off UNUSEDSIGNAL */  // busy is implied by the FSM state
  logic        sq_start, sq_busy, sq_done;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [DW-1:0] sq_num;
  logic [DW/2-1:0] sq_root;
  // RMS: mean + eps (Q.2F), a DW-bit add in segments; div_quo and the instruction are held
  localparam int RADD_LAT = (DW + 31) / 32;
  logic [DW-1:0] mean_eps;
  logic [2:0]    radd_wait;
  mmfa_padd #(.W(DW)) u_radd (.clk(clk), .a(div_quo), .b(DW'(i_imm) << (2 * F - 32)), .cin(1'b0), .sum(mean_eps));
  mmfa_isqrt #(.W(DW)) u_sqrt (.clk(clk), .rst(rst), .start(sq_start), .num(sq_num), .busy(sq_busy),
                              .done(sq_done), .root(sq_root));

  // ---------------- read request generator (AR channel), independent of data consumption
  logic [31:0] rq_addr, rq_left;
  logic        rq_set;
  logic [31:0] rq_set_addr, rq_set_beats;
  // after each request (or a new set) the next burst's length is registered on its own clock
  logic [31:0] rq_burst;
  logic        rq_ready, rq_nz;
  assign m_axi_arvalid = rq_ready && rq_nz;
  assign m_axi_araddr = rq_addr;
  assign m_axi_arlen = 8'(rq_burst - 1);

  // outstanding traffic, kept across soft reset so the drain knows what is still in flight
  logic [31:0] rd_iss, rd_rcv;   // beats requested and received: in flight while they differ
  logic [8:0]  w_owed;
  logic [3:0]  b_owed;
  logic        r_fire, ar_fire, aw_fire, w_fire, b_fire;
  assign r_fire = m_axi_rvalid && m_axi_rready;
  assign ar_fire = m_axi_arvalid && m_axi_arready;
  assign aw_fire = m_axi_awvalid && m_axi_awready;
  assign w_fire = m_axi_wvalid && m_axi_wready;
  assign b_fire = m_axi_bvalid && m_axi_bready;

  always_ff @(posedge clk) begin
    if (rst) begin
      rd_iss <= '0;
      rd_rcv <= '0;
      w_owed <= '0;
      b_owed <= '0;
    end else begin
      if (ar_fire) rd_iss <= rd_iss + rq_burst;
      if (r_fire) rd_rcv <= rd_rcv + 32'd1;
      w_owed <= w_owed + (aw_fire ? 9'(m_axi_awlen) + 9'd1 : 9'd0) - (w_fire ? 9'd1 : 9'd0);
      b_owed <= b_owed + (aw_fire ? 4'd1 : 4'd0) - (b_fire ? 4'd1 : 4'd0);
    end
  end

  always_ff @(posedge clk) begin
    if (rst || soft_rst) begin
      rq_addr <= '0;
      rq_left <= '0;
      rq_ready <= 1'b0;
      rq_nz <= 1'b0;
      rq_burst <= '0;
    end else if (rq_set) begin
      rq_addr <= rq_set_addr;
      rq_left <= rq_set_beats;
      rq_ready <= 1'b0;
    end else if (ar_fire) begin
      rq_addr <= rq_addr + rq_burst * BB;
      rq_left <= rq_left - rq_burst;
      rq_ready <= 1'b0;
    end else begin
      rq_burst <= (rq_left > 32'(BURST)) ? 32'(BURST) : rq_left;
      rq_nz <= (rq_left != 0);
      rq_ready <= 1'b1;
    end
  end

  // ---------------- unpacker (LOADV, LOAD_PROG): one 32-bit word per cycle out of each beat
  logic          up_full;
  logic [MW-1:0] up_buf;
  logic [15:0]   up_k;
  logic [31:0]   up_cnt, up_total, up_total_m1;
  always_ff @(posedge clk) up_total_m1 <= up_total - 32'd1;   // settles long before the first beat

  // ---------------- store path
  logic [31:0]   st_addr, st_beats_left;
  logic [15:0]   st_elem;
  logic [8:0]    st_burst_left;
  logic [15:0]   st_k;
  logic          cap_v, cap_in;
  logic [MW-1:0] wbuf;

  // ---------------- element-wise pipeline
  logic [15:0] iss_idx;
  logic        iss_on;
  logic        s1_v, s2_v;
  logic [15:0] s1_idx, s2_idx;
  logic [VW-1:0] s2_a, s2_b, s2_c, s2_d;
  logic [1:0]  s2_rng0, s2_rng1;   // {>= 16.0, < -16.0} for the two sigmoid inputs
  logic [SSH-1:0] s2_fr0, s2_fr1;  // position inside the segment, for the interpolation
  logic [40:0] rom0_q, rom1_q;
  logic [SIGB-1:0] rom0_addr, rom1_addr;
  logic [8*LANES-1:0] act_pack;

  logic [VW-1:0] op_a, op_b, op_c, op_d;
  // bank select as a decoder over constant indices (an indexed part-select builds an adder)
  always_comb begin
    op_a = '0;
    op_b = '0;
    op_c = '0;
    op_d = '0;
    for (int v = 0; v < NV; v++) begin
      if (i_a[VB-1:0] == VB'(v)) op_a = vr_q[VW*v +: VW];
      if (i_b[VB-1:0] == VB'(v)) op_b = vr_q[VW*v +: VW];
      if (i_c[VB-1:0] == VB'(v)) op_c = vr_q[VW*v +: VW];
      if (i_d[VB-1:0] == VB'(v)) op_d = vr_q[VW*v +: VW];
    end
  end

  // sigmoid ROM: [-16, 16) spans 2^(F+5); the top SIGB bits after the offset pick the segment,
  // the low SSH bits interpolate inside it
  // (x + 16.0) mod 2^(F+5): adding 2^(F+4) only flips that bit (no adder)
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic [F+4:0] sig_offset(input logic [VW-1:0] x);
    sig_offset = {~x[F+4], x[F+3:0]};
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  // {x >= 16.0, x < -16.0} as bit tests on the bits above 2^(F+4), not as wide compares
  function automatic logic [1:0] sig_range(input logic [VW-1:0] x);
    sig_range = {!x[VW-1] && (x[VW-2:F+4] != '0), x[VW-1] && (x[VW-2:F+4] != '1)};
  endfunction
  // node + rnd(step * fr, SSH): the rounding is the carry-in (bit SSH-1 of the product)
  function automatic logic [SF:0] sig_value(input logic [1:0] rng, input logic [SF:0] node, input logic [16+SSH-1:0] p);
    if (rng[1]) sig_value = (SF+1)'(1) << SF;
    else if (rng[0]) sig_value = '0;
    else sig_value = node + (SF+1)'(p[16+SSH-1:SSH]) + (SF+1)'(p[SSH-1]);
  endfunction

  logic [VW-1:0] sig0_src;
  logic [F+4:0] sig0_off, sig1_off;
  assign sig0_src = (i_op == 8'(mmfa_regs_pkg::OP_RMS)) ? op_c : op_a;
  assign sig0_off = sig_offset(sig0_src);
  assign sig1_off = sig_offset(op_b);
  assign rom0_addr = sig0_off[F+4 -: SIGB];
  assign rom1_addr = sig1_off[F+4 -: SIGB];
  mmfa_sigmoid_rom #(.AB(SIGB)) u_rom0 (.clk(clk), .addr(rom0_addr), .data(rom0_q));
  mmfa_sigmoid_rom #(.AB(SIGB)) u_rom1 (.clk(clk), .addr(rom1_addr), .data(rom1_q));

  // sA: the interpolation products (one DSP each); s3: interpolated sigmoids registered; then
  // EW_LAT stages in mmfa_ew; sN: results, in order
  localparam int EW_LAT = 26;
  logic          sA_v;
  logic [15:0]   sA_idx;
  logic [VW-1:0] sA_a, sA_b, sA_c, sA_d;
  logic [1:0]    sA_rng0, sA_rng1;
  logic [SF:0]   sA_node0, sA_node1;
  logic [16+SSH-1:0] sA_p0, sA_p1;
  logic          s3_v;
  logic [15:0]   s3_idx;
  logic [VW-1:0] s3_a, s3_b, s3_c, s3_d;
  logic [SF:0]   s3_sig0, s3_sig1;
  logic [EW_LAT-1:0] ep_v;
  logic [15:0]   ep_idx [0:EW_LAT-1];
  logic [VW-1:0] ep_a [0:EW_LAT-1];
  logic          sN_v;
  logic [15:0]   sN_idx;
  logic [VW-1:0] sN_a;
  assign sN_v = ep_v[EW_LAT-1];
  assign sN_idx = ep_idx[EW_LAT-1];
  assign sN_a = ep_a[EW_LAT-1];
  logic [VW-1:0] ew_res;
  logic [7:0]  ew_q;
  mmfa_ew #(.VW(VW), .F(F), .SF(SF), .RB(RB), .QRW(QRW)) u_ew (.clk(clk), .op(i_op),
                .gated(i_flags[mmfa_regs_pkg::IFLAG_GATED_BIT]), .a(s3_a), .b(s3_b), .c(s3_c), .d(s3_d),
                .sig0(s3_sig0), .sig1(s3_sig1), .rrec(rrec), .qrecip(qrecip), .result(ew_res), .q(ew_q));
  always_ff @(posedge clk) begin
    if (rst || soft_rst) begin
      sA_v <= 1'b0;
      s3_v <= 1'b0;
      ep_v <= '0;
    end else begin
      sA_v <= s2_v;
      s3_v <= sA_v;
      ep_v <= {ep_v[EW_LAT-2:0], s3_v};
    end
    sA_idx <= s2_idx;
    sA_a <= s2_a;
    sA_b <= s2_b;
    sA_c <= s2_c;
    sA_d <= s2_d;
    sA_rng0 <= s2_rng0;
    sA_rng1 <= s2_rng1;
    sA_node0 <= rom0_q[40:16];
    sA_node1 <= rom1_q[40:16];
    sA_p0 <= (16+SSH)'(rom0_q[15:0]) * (16+SSH)'(s2_fr0);
    sA_p1 <= (16+SSH)'(rom1_q[15:0]) * (16+SSH)'(s2_fr1);
    s3_idx <= sA_idx;
    s3_a <= sA_a;
    s3_b <= sA_b;
    s3_c <= sA_c;
    s3_d <= sA_d;
    s3_sig0 <= sig_value(sA_rng0, sA_node0, sA_p0);
    s3_sig1 <= sig_value(sA_rng1, sA_node1, sA_p1);
    ep_idx[0] <= s3_idx;
    ep_a[0] <= s3_a;
    for (int k = 1; k < EW_LAT; k++) begin
      ep_idx[k] <= ep_idx[k-1];
      ep_a[k] <= ep_a[k-1];
    end
  end

  // RMS pass 1: a^2 carry-save, added in 32-bit segments (SQ_LAT clocks), then summed into
  // sumsq by a segmented accumulator whose carries ripple one segment per clock; the sum is
  // final once the pipeline is empty and no carry is pending
  localparam int SQ_LAT = 2 + (2 * VW + 1 + 31) / 32;
  localparam int SQS = (SQW + 31) / 32;
  /* verilator lint_off UNUSEDSIGNAL */  // a^2 < 2^(2*VW-2)
  logic [2*VW:0] sq_s, sq_c, sq_full;
  /* verilator lint_on UNUSEDSIGNAL */
  mmfa_mulcs #(.AW(VW), .BW(VW)) u_sq (.clk(clk), .a(s3_a), .b(s3_a), .x(1'b0), .s(sq_s), .c(sq_c));
  mmfa_padd #(.W(2 * VW + 1)) u_sqadd (.clk(clk), .a(sq_s), .b(sq_c), .cin(1'b0), .sum(sq_full));
  logic [SQW-1:0] sq_in;
  assign sq_in = ep_v[SQ_LAT-1] ? SQW'(sq_full[2*VW-1:0]) : '0;
  /* verilator lint_off UNUSEDSIGNAL */  // the top segment's carry wraps away (sumsq < 2^(SQW-1))
  logic [SQS-1:0] sq_cy;
  /* verilator lint_on UNUSEDSIGNAL */
  logic sq_clr, sq_settled;
  assign sq_clr = rst || soft_rst || state == S_DECODE;
  assign sq_settled = (sq_cy[SQS-2:0] == '0);
  for (genvar k = 0; k < SQS; k++) begin : g_sqacc
    localparam int LO = 32 * k;
    localparam int SW = (SQW - LO < 32) ? SQW - LO : 32;
    logic cin;
    if (k == 0) begin : g_c0
      assign cin = 1'b0;
    end else begin : g_ck
      assign cin = sq_cy[k-1];
    end
    logic [SW-1:0] acc;
    logic cy;
    always_ff @(posedge clk) begin
      if (sq_clr) {cy, acc} <= '0;
      else {cy, acc} <= {1'b0, acc} + {1'b0, sq_in[LO +: SW]} + (SW+1)'(cin);
    end
    assign sumsq[LO +: SW] = acc;
    assign sq_cy[k] = cy;
  end

  // ---------------- ternary mat-vec pipeline
  logic [15:0]   tm_chunk, tm_row;
  logic          tm_recv_done;
  logic          t1_v, t1_first, t1_last;
  logic [15:0]   t1_row;
  logic [MW-1:0] t1_codes;
  // the dot product's pipeline (DL stages) carries each beat's flags alongside; then the row's
  // accumulator (t2), its dequant product (t3) and the rounded, saturated write (t4)
  localparam int DL = $clog2(LANES) / 2 + 1;
  logic [DL-1:0] dp_v, dp_first, dp_last;
  logic [15:0]   dp_row [0:DL-1];
  logic          t2_v, t2_first, t2_last;
  /* verilator lint_off UNUSEDSIGNAL */  // rows beyond DMAX are rejected at decode
  logic [15:0]   t2_row, t3_row, t4_row;
  localparam int DQ_LAT = 7;   // mmfa_mulrs: 32 x 69 bits
  /* verilator lint_on UNUSEDSIGNAL */
  logic [31:0]   t2_dot;
  logic [CW-1:0] t2_nz;
  logic [31:0]   acc, acc_next, t3_acc;
  logic          t3_v, t4_v;
  logic [DQ_LAT-1:0] tq_v;
  logic [VW-1:0] t4_y;
  mmfa_tmv_dot #(.LANES(LANES)) u_dot (.clk(clk), .codes(t1_codes), .act(ar_q), .dot(t2_dot), .nonzero(t2_nz));
  assign t2_v = dp_v[DL-1];
  assign t2_first = dp_first[DL-1];
  assign t2_last = dp_last[DL-1];
  assign t2_row = dp_row[DL-1];
  assign acc_next = t2_first ? t2_dot : acc + t2_dot;
  always_ff @(posedge clk) begin
    if (rst || soft_rst) begin
      dp_v <= '0;
      t3_v <= 1'b0;
      tq_v <= '0;
    end else begin
      dp_v <= {dp_v[DL-2:0], t1_v};
      t3_v <= t2_v && t2_last;
      tq_v <= {tq_v[DQ_LAT-2:0], t3_v};
    end
    dp_first <= {dp_first[DL-2:0], t1_first};
    dp_last <= {dp_last[DL-2:0], t1_last};
    dp_row[0] <= t1_row;
    for (int k = 1; k < DL; k++) dp_row[k] <= dp_row[k-1];
    if (t2_v) acc <= acc_next;
    t3_acc <= acc_next;
    t3_row <= t2_row;
  end
  assign t4_v = tq_v[DQ_LAT-1];
  // the dequant product, rounded by 16 bits and saturated: rnd(acc * tp, 16)
  mmfa_mulrs #(.AW(32), .BW(TPW + 1), .XW(1), .SH(16), .OW(VW), .LAT(DQ_LAT)) u_dq (
      .clk(clk), .a(t3_acc), .b({1'b0, tp}), .x(1'b0), .y(t4_y));
  mmfa_delay #(.W(16), .N(DQ_LAT)) u_dq_row (.clk(clk), .d(t3_row), .q(t4_row));


  // ARGMAX_VALUE shows the winner in Q15.16, saturated to 32 bits
  localparam logic signed [VW-1:0] Q16_MAX = VW'(64'sh7fff_ffff);
  localparam logic signed [VW-1:0] Q16_MIN = -VW'(64'sh8000_0000);
  function automatic logic [31:0] q16_view(input logic [VW-1:0] x);
    logic signed [VW-1:0] y;
    y = $signed(x) >>> (F - 16);
    if (y > Q16_MAX) q16_view = 32'h7fffffff;
    else if (y < Q16_MIN) q16_view = 32'h80000000;
    else q16_view = y[31:0];
  endfunction

  // ---------------- combinational port control
  always_comb begin
    vw_en = 1'b0;
    vw_sel = i_dst[VB-1:0];
    vw_addr = '0;
    vw_data = '0;
    pw_en = 1'b0;
    pw_bank = up_cnt[1:0];
    pw_addr = up_cnt[PB+1:2];
    pw_data = up_buf[31:0];
    vr_addr = '0;
    ar_addr = tm_chunk[AB-1:0];
    m_axi_rready = 1'b0;
    m_axi_awvalid = 1'b0;
    m_axi_awaddr = st_addr;
    m_axi_awlen = 8'(st_burst_n - 9'd1);
    m_axi_wvalid = 1'b0;
    m_axi_wdata = wbuf;
    m_axi_wstrb = '1;
    m_axi_wlast = (st_burst_left == 9'd1);
    m_axi_bready = 1'b0;
    case (state)
      S_DESC: m_axi_rready = 1'b1;
      S_LDPROG: begin
        m_axi_rready = !up_full;
        pw_en = up_full;
      end
      S_LOADV: begin
        m_axi_rready = !up_full;
        vw_en = up_full;
        vw_addr = up_cnt[IB-1:0];
        vw_data = up_buf[VW-1:0];
      end
      S_ST_AW: m_axi_awvalid = st_aw_ok;
      S_ST_FILL: vr_addr = st_elem[IB-1:0];
      S_ST_W: m_axi_wvalid = 1'b1;
      S_ST_B: m_axi_bready = 1'b1;
      S_TMV: begin
        m_axi_rready = !tm_recv_done;
        vw_en = t4_v;
        vw_addr = t4_row[IB-1:0];
        vw_data = t4_y;
      end
      S_EW: begin
        vr_addr = iss_idx[IB-1:0];
        vw_en = sN_v && kind == K_OUT;
        vw_addr = sN_idx[IB-1:0];
        vw_data = ew_res;
      end
      S_DRAIN: begin
        m_axi_rready = 1'b1;
        m_axi_wvalid = (w_owed != 0);
        m_axi_wstrb = '0;              // complete an interrupted burst without writing
        m_axi_wlast = (w_owed == 9'd1);
        m_axi_bready = 1'b1;
      end
      default: ;
    endcase
  end

  // ---------------- telemetry
  assign idle = (state == S_IDLE);
  assign ev_tmv = (state == S_TMV);
  assign ev_ew = (state == S_EW);
  assign ev_ew_elem = (state == S_EW) && s2_v;
  assign ev_weight_beat = (state == S_TMV) && r_fire;
  assign ev_other_beat = (r_fire && state != S_TMV) || w_fire;
  assign ev_nonzero = (state == S_TMV && t2_v) ? t2_nz : '0;
  assign ev_stall = (m_axi_rready && !m_axi_rvalid && state != S_DRAIN && state != S_TMV) ||
                    (state == S_TMV && !tm_recv_done && !m_axi_rvalid) ||
                    (m_axi_awvalid && !m_axi_awready) || (m_axi_wvalid && !m_axi_wready) ||
                    (m_axi_bready && !m_axi_bvalid && state != S_DRAIN);

  logic [31:0] tok_cycles;
  logic [8*LANES-1:0] act_pack_next;
  always_comb begin
    // byte lane by a decoder over constant indices, not an indexed part-select (an adder)
    for (int k = 0; k < LANES; k++)
      act_pack_next[8*k +: 8] = (sN_idx[$clog2(LANES)-1:0] == ($clog2(LANES))'(k)) ? ew_q : act_pack[8*k +: 8];
  end

  // the halted engine keeps head and pc, so the error location is a view of them
  assign error = (state == S_ERROR);
  assign err_desc = head;
  assign err_pc = pc;

  logic bad_regs;
  assign bad_regs = (i_dst >= 8'(NV)) || (i_a >= 8'(NV)) || (i_b >= 8'(NV)) || (i_c >= 8'(NV)) ||
                    (i_d >= 8'(NV));
  logic bad_len;
  assign bad_len = (i_len == 0) || (32'(i_len) > 32'(DMAX));
  logic [VW-1:0] amax_eff;
  assign amax_eff = (amax == 0) ? VW'(1) : amax;
  // the store burst's length, registered: AW waits one clock in S_ST_AW for it (st_aw_ok)
  logic [8:0] st_burst_n;
  logic       st_aw_ok;
  always_ff @(posedge clk) begin
    st_burst_n <= (st_beats_left > 32'(BURST)) ? 9'(BURST) : 9'(st_beats_left);
    st_aw_ok <= (state == S_ST_AW) && !aw_fire;
  end
  // TMV dequant factor rnd(qm * mq, 16 + mq_shift), recomputed continuously by a pipeline:
  // qm * mq carry-save, added in segments, shifted down by 15 + mq_shift to Q, then
  // rnd = (Q + 1) >> 1. A TMV waits at decode until TP_LAT clocks have passed since qm or the
  // SCALE last changed (tp_age).
  localparam int TPP = VW + 34;                        // {0,qm} * {0,mq} + 1
  localparam int TP_LAT = 2 + (TPP + 31) / 32 + 1 + (TPP - 15 + 31) / 32;
  /* verilator lint_off UNUSEDSIGNAL */  // qm * mq < 2^(VW+31); Q + 1 is even-rounded away
  logic [TPP-1:0] tpp_s, tpp_c, tpp;
  logic [TPP-16:0] tpq, tpq1;
  /* verilator lint_on UNUSEDSIGNAL */
  mmfa_mulcs #(.AW(VW + 1), .BW(33), .PW(TPP)) u_tpm (.clk(clk), .a({1'b0, qm}), .b({1'b0, mq}), .x(1'b0),
                                                     .s(tpp_s), .c(tpp_c));
  mmfa_padd #(.W(TPP)) u_tpa (.clk(clk), .a(tpp_s), .b(tpp_c), .cin(1'b0), .sum(tpp));
  always_ff @(posedge clk) tpq <= (TPP-15)'(tpp >> (15 + mq_shift));
  mmfa_padd #(.W(TPP - 15)) u_tpr (.clk(clk), .a(tpq), .b((TPP-15)'(0)), .cin(1'b1), .sum(tpq1));
  logic [$clog2(TP_LAT + 2)-1:0] tp_age;
  logic tp_ready;
  assign tp_ready = (tp_age == ($clog2(TP_LAT + 2))'(TP_LAT + 1));
  always_ff @(posedge clk) begin
    if (rst || soft_rst || (state == S_DECODE && (32'(i_op) == mmfa_regs_pkg::OP_SCALE ||
                                                  32'(i_op) == mmfa_regs_pkg::OP_QUANT))) tp_age <= '0;
    else if (!tp_ready) tp_age <= tp_age + 1'b1;
  end
  logic ew_drained;
  // max |value| written, two stages behind the write (settled before the next DECODE reads it)
  // |x| = (x ^ sign) + sign through a segmented adder (AM_LAT clocks), then a LUT-tree compare;
  // FETCH waits until the tracker is empty, so a DECODE always sees the finished absmax
  localparam int AM_LAT = 1 + (VW + 31) / 32;
  logic [AM_LAT:1] am_v;
  logic [VW-1:0] am1_val, am2_abs;
  logic am_gt;
  /* verilator lint_off UNUSEDSIGNAL */
  logic am_eq_unused;
  /* verilator lint_on UNUSEDSIGNAL */
  always_ff @(posedge clk) begin
    if (rst || soft_rst) am_v <= '0;
    else am_v <= {am_v[AM_LAT-1:1], vw_en && (state == S_TMV || state == S_EW)};
    am1_val <= vw_data;
  end
  mmfa_padd #(.W(VW)) u_abs (.clk(clk), .a(am1_val ^ {VW{am1_val[VW-1]}}), .b(VW'(0)), .cin(am1_val[VW-1]), .sum(am2_abs));
  mmfa_gt #(.W(VW)) u_amgt (.a(am2_abs), .b(amax), .gt(am_gt), .eq(am_eq_unused));
  assign ew_drained = !iss_on && !s1_v && !s2_v && !sA_v && !s3_v && ep_v == '0;

  always_ff @(posedge clk) begin
    rq_set <= 1'b0;
    div_start <= 1'b0;
    sq_start <= 1'b0;
    aw_en <= 1'b0;
    ev_desc_done <= 1'b0;
    ev_token_done <= 1'b0;
    ev_snapshot <= 1'b0;
    if (rst || soft_rst) begin
      state <= rst ? S_IDLE : S_DRAIN;
      head <= '0;
      comp_seq <= '0;
      err_code <= '0;
      pc <= '0;
      arg <= '0;
      ins <= '0;
      i_len_m1 <= '0;
      i_aux_m1 <= '0;
      kind <= K_OUT;
      d_flags <= '0;
      d_seq <= '0;
      amax <= '0;
      qm <= VW'(1);
      qrecip <= '0;
      mq <= '0;
      mq_shift <= '0;
      tp <= '0;
      rrec <= '0;
      best <= '0;
      argmax_idx <= '0;
      argmax_val <= '0;
      up_full <= 1'b0;
      up_buf <= '0;
      up_k <= '0;
      up_cnt <= '0;
      up_total <= '0;
      st_addr <= '0;
      st_beats_left <= '0;
      st_elem <= '0;
      st_burst_left <= '0;
      st_k <= '0;
      cap_v <= 1'b0;
      cap_in <= 1'b0;
      wbuf <= '0;
      iss_idx <= '0;
      iss_on <= 1'b0;
      s1_v <= 1'b0;
      s2_v <= 1'b0;
      s1_idx <= '0;
      s2_idx <= '0;
      s2_a <= '0;
      s2_b <= '0;
      s2_c <= '0;
      s2_d <= '0;
      s2_rng0 <= '0;
      s2_rng1 <= '0;
      s2_fr0 <= '0;
      s2_fr1 <= '0;
      act_pack <= '0;
      tm_chunk <= '0;
      tm_row <= '0;
      tm_recv_done <= 1'b0;
      t1_v <= 1'b0;
      t1_first <= 1'b0;
      t1_last <= 1'b0;
      t1_row <= '0;
      t1_codes <= '0;
      tok_cycles <= '0;
      ev_token_cycles <= '0;
      rq_set_addr <= '0;
      rq_set_beats <= '0;
      div_num <= '0;
      div_den <= '0;
      sq_num <= '0;
      radd_wait <= '0;
      aw_addr <= '0;
      aw_data <= '0;
    end else begin
      tok_cycles <= tok_cycles + 1;
      if (am_v[AM_LAT] && am_gt) amax <= am2_abs;

      if (((r_fire && m_axi_rresp != 2'b00) || (b_fire && m_axi_bresp != 2'b00)) &&
          state != S_DRAIN && state != S_ERROR) begin
        err_code <= 8'(mmfa_regs_pkg::ERR_BUS_ERROR);
        state <= S_ERROR;
      end else begin
        case (state)
          S_IDLE: begin
            if (run_en && head != tail) begin
              rq_set <= 1'b1;
              rq_set_addr <= ring_base + {10'd0, head & ring_mask, 6'd0};
              rq_set_beats <= 32'd1;
              tok_cycles <= '0;
              state <= S_DESC;
            end
          end

          S_DESC: if (r_fire) begin
            d_flags <= m_axi_rdata[15:8];
            d_seq <= m_axi_rdata[31:16];
            case (32'(m_axi_rdata[7:0]))
              mmfa_regs_pkg::DESC_OP_NOP: state <= S_COMPLETE;
              mmfa_regs_pkg::DESC_OP_SNAPSHOT: begin
                ev_snapshot <= 1'b1;
                state <= S_COMPLETE;
              end
              mmfa_regs_pkg::DESC_OP_LOAD_PROG: begin
                if (m_axi_rdata[95:64] == 0 || m_axi_rdata[95:64] > 32'(PROG_DEPTH)) begin
                  err_code <= 8'(mmfa_regs_pkg::ERR_BAD_PROG_SIZE);
                  state <= S_ERROR;
                end else begin
                  rq_set <= 1'b1;
                  rq_set_addr <= m_axi_rdata[63:32];
                  rq_set_beats <= (m_axi_rdata[95:64] + 32'(IPB - 1)) / 32'(IPB);
                  up_total <= {m_axi_rdata[93:64], 2'b00};
                  up_cnt <= '0;
                  up_full <= 1'b0;
                  state <= S_LDPROG;
                end
              end
              mmfa_regs_pkg::DESC_OP_RUN: begin
                pc <= m_axi_rdata[47:32];
                arg <= m_axi_rdata[127:96];
                state <= S_FETCH;
              end
              default: begin
                err_code <= 8'(mmfa_regs_pkg::ERR_BAD_DESC_OPCODE);
                state <= S_ERROR;
              end
            endcase
          end

          S_LDPROG, S_LOADV: begin
            if (!up_full && r_fire) begin
              up_buf <= m_axi_rdata;
              up_full <= 1'b1;
              up_k <= '0;
            end else if (up_full) begin
              up_buf <= (state == S_LDPROG) ? up_buf >> 32 : up_buf >> 64;
              up_k <= up_k + 1;
              up_cnt <= up_cnt + 1;
              if (up_k == ((state == S_LDPROG) ? 16'(WPB - 1) : 16'(EPB - 1)) || up_cnt == up_total_m1) up_full <= 1'b0;
              if (up_cnt == up_total_m1) begin
                if (state == S_LDPROG) state <= S_COMPLETE;
                else begin
                  pc <= pc + 1;
                  state <= S_FETCH;
                end
              end
            end
          end

          S_FETCH: if (am_v == '0) begin
            if (32'(pc) >= 32'(PROG_DEPTH)) begin
              err_code <= 8'(mmfa_regs_pkg::ERR_PC_OVERFLOW);
              state <= S_ERROR;
            end else state <= S_LATCH;
          end

          S_LATCH: begin
            ins <= p_q;
            i_len_m1 <= p_q[79:64] - 16'd1;
            i_aux_m1 <= p_q[95:80] - 16'd1;
            state <= S_DECODE;
          end

          S_DECODE: begin
            if (32'(i_op) == mmfa_regs_pkg::OP_END) state <= S_COMPLETE;
            else if (32'(i_op) == mmfa_regs_pkg::OP_SCALE) begin
              mq <= i_imm;
              mq_shift <= (i_aux > 16'd40) ? 6'd40 : i_aux[5:0];
              pc <= pc + 1;
              state <= S_FETCH;
            end else if (32'(i_op) > mmfa_regs_pkg::OP_SILU) begin
              err_code <= 8'(mmfa_regs_pkg::ERR_BAD_INSTR);
              state <= S_ERROR;
            end else if (bad_regs || bad_len ||
                         (32'(i_op) == mmfa_regs_pkg::OP_TMV && (i_aux == 0 || 32'(i_aux) > 32'(DMAX / LANES)))) begin
              err_code <= 8'(mmfa_regs_pkg::ERR_BAD_LENGTH);
              state <= S_ERROR;
            end else if (32'(i_op) == mmfa_regs_pkg::OP_TMV && !tp_ready) begin
              // the dequant factor is still in its pipeline: decode again next clock
            end else begin
              // vector ops: the element-wise pipeline starts empty
              iss_idx <= '0;
              iss_on <= 1'b1;
              s1_v <= 1'b0;
              s2_v <= 1'b0;
              amax <= '0;
              case (32'(i_op))
                mmfa_regs_pkg::OP_LOADV: begin
                  iss_on <= 1'b0;
                  amax <= amax;
                  rq_set <= 1'b1;
                  rq_set_addr <= i_addr;
                  rq_set_beats <= (32'(i_len) + 32'(EPB - 1)) / 32'(EPB);
                  up_total <= 32'(i_len);
                  up_cnt <= '0;
                  up_full <= 1'b0;
                  state <= S_LOADV;
                end
                mmfa_regs_pkg::OP_STOREV: begin
                  iss_on <= 1'b0;
                  amax <= amax;
                  st_addr <= i_addr;
                  st_beats_left <= (32'(i_len) + 32'(EPB - 1)) / 32'(EPB);
                  st_elem <= '0;
                  state <= S_ST_AW;
                end
                mmfa_regs_pkg::OP_TMV: begin
                  iss_on <= 1'b0;
                  rq_set <= 1'b1;
                  rq_set_addr <= i_addr;
                  rq_set_beats <= 32'(i_len) * 32'(i_aux);
                  tp <= tpq1[TPW:1];
                  tm_chunk <= '0;
                  tm_row <= '0;
                  tm_recv_done <= 1'b0;
                  t1_v <= 1'b0;
                  state <= S_TMV;
                end
                mmfa_regs_pkg::OP_QUANT: begin
                  iss_on <= 1'b0;
                  amax <= amax;
                  qm <= amax_eff;
                  div_num <= DW'(127) << (F + 24);
                  div_den <= DW'(amax_eff);
                  div_start <= 1'b1;
                  state <= S_QDIV;
                end
                mmfa_regs_pkg::OP_RMS: begin
                  kind <= K_SUMSQ;
                  state <= S_EW;
                end
                mmfa_regs_pkg::OP_ARGMAX: begin
                  kind <= K_ARGMAX;
                  amax <= amax;
                  if (!i_flags[mmfa_regs_pkg::IFLAG_CONT_BIT]) begin
                    best <= {1'b1, {(VW-1){1'b0}}};
                    argmax_idx <= i_imm;
                  end
                  state <= S_EW;
                end
                default: begin
                  kind <= K_OUT;
                  state <= S_EW;
                end
              endcase
            end
          end

          S_QDIV: if (div_done) begin
            qrecip <= div_quo[QRW-1:0];
            kind <= K_QUANT;
            act_pack <= '0;
            iss_idx <= '0;
            iss_on <= 1'b1;
            state <= S_EW;
          end

          S_RDIV1: if (div_done) begin
            radd_wait <= '0;
            state <= S_RADD;
          end

          S_RADD: begin   // mean + eps through its pipelined adder
            radd_wait <= radd_wait + 1'b1;
            if (radd_wait == 3'(RADD_LAT)) begin
              sq_num <= mean_eps << 16;
              sq_start <= 1'b1;
              state <= S_RSQRT;
            end
          end

          S_RSQRT: if (sq_done) begin
            div_num <= DW'(1) << (F + 8 + 24);
            div_den <= (sq_root == 0) ? DW'(1) : DW'(sq_root);
            div_start <= 1'b1;
            state <= S_RDIV2;
          end

          S_RDIV2: if (div_done) begin
            rrec <= div_quo[RB-1:0];
            kind <= K_OUT;
            amax <= '0;
            iss_idx <= '0;
            iss_on <= 1'b1;
            state <= S_EW;
          end

          S_EW: begin
            if (iss_on) begin
              s1_v <= 1'b1;
              s1_idx <= iss_idx;
              if (iss_idx == i_len_m1) iss_on <= 1'b0;
              else iss_idx <= iss_idx + 1;
            end else s1_v <= 1'b0;
            s2_v <= s1_v;
            s2_idx <= s1_idx;
            s2_a <= op_a;
            s2_b <= op_b;
            s2_c <= op_c;
            s2_d <= op_d;
            s2_rng0 <= sig_range(sig0_src);
            s2_rng1 <= sig_range(op_b);
            s2_fr0 <= sig0_off[SSH-1:0];
            s2_fr1 <= sig1_off[SSH-1:0];
            if (sN_v) begin
              case (kind)
                K_QUANT: begin
                  if (sN_idx[$clog2(LANES)-1:0] == '1 || sN_idx == i_len_m1) begin
                    aw_en <= 1'b1;
                    aw_addr <= sN_idx[$clog2(LANES) +: AB];
                    aw_data <= act_pack_next;
                    act_pack <= '0;
                  end else act_pack <= act_pack_next;
                end
                K_ARGMAX: if ($signed(sN_a) > $signed(best)) begin
                  best <= sN_a;
                  argmax_idx <= i_imm + 32'(sN_idx);
                end
                default: ;
              endcase
            end
            if (ew_drained && (kind != K_SUMSQ || sq_settled)) begin
              if (kind == K_SUMSQ) begin
                div_num <= DW'(sumsq);
                div_den <= DW'(i_len);
                div_start <= 1'b1;
                state <= S_RDIV1;
              end else begin
                if (kind == K_ARGMAX) argmax_val <= q16_view(best);
                pc <= pc + 1;
                state <= S_FETCH;
              end
            end
          end

          S_TMV: begin
            if (!tm_recv_done && r_fire) begin
              t1_v <= 1'b1;
              t1_codes <= m_axi_rdata;
              t1_first <= (tm_chunk == 0);
              t1_last <= (tm_chunk == i_aux_m1);
              t1_row <= tm_row;
              if (tm_chunk == i_aux_m1) begin
                tm_chunk <= '0;
                tm_row <= tm_row + 1;
                if (tm_row == i_len_m1) tm_recv_done <= 1'b1;
              end else tm_chunk <= tm_chunk + 1;
            end else t1_v <= 1'b0;
            if (tm_recv_done && !t1_v && dp_v == '0 && !t3_v && tq_v == '0) begin
              pc <= pc + 1;
              state <= S_FETCH;
            end
          end

          S_ST_AW: if (aw_fire) begin
            st_burst_left <= st_burst_n;
            st_k <= '0;
            cap_v <= 1'b0;
            state <= S_ST_FILL;
          end

          S_ST_FILL: begin
            if (cap_v) wbuf <= {cap_in ? 64'($signed(op_a)) : 64'd0, wbuf[MW-1:64]};
            if (st_k < 16'(EPB)) begin
              cap_v <= 1'b1;
              cap_in <= (st_elem < i_len);
              st_elem <= st_elem + 1;
              st_k <= st_k + 1;
            end else begin
              cap_v <= 1'b0;
              if (cap_v) state <= S_ST_W;
            end
          end

          S_ST_W: if (w_fire) begin
            st_burst_left <= st_burst_left - 1;
            st_beats_left <= st_beats_left - 1;
            st_addr <= st_addr + BB;
            if (st_burst_left == 9'd1) state <= S_ST_B;
            else begin
              st_k <= '0;
              state <= S_ST_FILL;
            end
          end

          S_ST_B: if (b_fire) begin
            if (st_beats_left == 0) begin
              pc <= pc + 1;
              state <= S_FETCH;
            end else state <= S_ST_AW;
          end

          S_COMPLETE: begin
            head <= (head + 1) & ring_mask;
            comp_seq <= d_seq;
            ev_desc_done <= 1'b1;
            if (d_flags[mmfa_regs_pkg::DESC_FLAG_TOKEN_BIT]) begin
              ev_token_done <= 1'b1;
              ev_token_cycles <= tok_cycles;
            end
            state <= S_IDLE;
          end

          S_DRAIN: if (rd_iss == rd_rcv && w_owed == 0 && b_owed == 0 && rq_left == 0 && rq_ready) state <= S_IDLE;

          default: ;   // S_ERROR: halted until soft reset
        endcase
      end
    end
  end
endmodule
