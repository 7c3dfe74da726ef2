// SPDX-License-Identifier: Apache-2.0
// MMFA accelerator top: one 32-bit AXI4-Lite slave (registers, see regs/mmfa_regs.json), one
// AXI4 master into card memory, one level interrupt. The same block sits behind XDMA's user BAR
// on a real board and behind the C++ bus models in simulation.
module mmfa_top #(
    parameter int LANES      = 64,
    parameter int NV         = 8,
    parameter int DMAX       = 1024,
    parameter int PROG_DEPTH = 1024,
    parameter int CLK_HZ     = 200000000,
    // default modeled-energy coefficients (fJ), overridable by the host per board profile
    parameter int E_STATIC_FJ      = 15000000,  // 3 W static at 200 MHz
    parameter int E_WEIGHT_BYTE_FJ = 80000,     // DDR4 access + PHY, ~10 pJ/bit
    parameter int E_LANE_OP_FJ     = 40,
    parameter int E_EW_OP_FJ       = 5000,
    parameter int E_MEM_BYTE_FJ    = 80000,
    localparam int MW = 2 * LANES
) (
    input  logic          clk,
    input  logic          rst,
    output logic          irq,

    input  logic [11:0]   s_axil_awaddr,
    input  logic          s_axil_awvalid,
    output logic          s_axil_awready,
    input  logic [31:0]   s_axil_wdata,
    input  logic          s_axil_wvalid,
    output logic          s_axil_wready,
    output logic [1:0]    s_axil_bresp,
    output logic          s_axil_bvalid,
    input  logic          s_axil_bready,
    input  logic [11:0]   s_axil_araddr,
    input  logic          s_axil_arvalid,
    output logic          s_axil_arready,
    output logic [31:0]   s_axil_rdata,
    output logic [1:0]    s_axil_rresp,
    output logic          s_axil_rvalid,
    input  logic          s_axil_rready,

    output logic [31:0]   m_axi_araddr,
    output logic [7:0]    m_axi_arlen,
    output logic [2:0]    m_axi_arsize,
    output logic [1:0]    m_axi_arburst,
    output logic          m_axi_arvalid,
    input  logic          m_axi_arready,
    input  logic [MW-1:0] m_axi_rdata,
    input  logic [1:0]    m_axi_rresp,
    input  logic          m_axi_rlast,
    input  logic          m_axi_rvalid,
    output logic          m_axi_rready,
    output logic [31:0]   m_axi_awaddr,
    output logic [7:0]    m_axi_awlen,
    output logic [2:0]    m_axi_awsize,
    output logic [1:0]    m_axi_awburst,
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
  localparam int NC = mmfa_regs_pkg::NUM_COUNTERS;
  localparam int CW = $clog2(LANES) + 2;
  localparam int BB = MW / 8;

  assign m_axi_arsize = 3'($clog2(BB));
  assign m_axi_awsize = 3'($clog2(BB));
  assign m_axi_arburst = 2'b01;   // INCR
  assign m_axi_awburst = 2'b01;

  // ---------------- registers
  logic        run, gie;
  logic [1:0]  ier, isr;
  logic [31:0] scratch, ring_base;
  logic [15:0] ring_mask, tail;
  logic [31:0] e_static, e_wbyte, e_lane, e_ew, e_mbyte;
  logic        soft_rst, snap_req;

  // ---------------- engine
  logic [15:0] head, comp_seq, err_desc, err_pc;
  logic        error, idle;
  logic [7:0]  err_code;
  logic [31:0] argmax_idx, argmax_val, ev_token_cycles;
  logic        ev_desc_done, ev_token_done, ev_snapshot, ev_tmv, ev_ew, ev_ew_elem, ev_stall;
  logic        ev_weight_beat, ev_other_beat;
  logic [CW-1:0] ev_nonzero;

  mmfa_engine #(.LANES(LANES), .NV(NV), .DMAX(DMAX), .PROG_DEPTH(PROG_DEPTH)) u_engine (
      .clk(clk), .rst(rst), .soft_rst(soft_rst), .run_en(run), .ring_base(ring_base), .ring_mask(ring_mask),
      .tail(tail), .head(head), .comp_seq(comp_seq), .error(error), .err_code(err_code), .err_desc(err_desc),
      .err_pc(err_pc), .idle(idle), .argmax_idx(argmax_idx), .argmax_val(argmax_val),
      .ev_desc_done(ev_desc_done), .ev_token_done(ev_token_done), .ev_token_cycles(ev_token_cycles),
      .ev_snapshot(ev_snapshot), .ev_tmv(ev_tmv), .ev_ew(ev_ew), .ev_ew_elem(ev_ew_elem), .ev_stall(ev_stall),
      .ev_weight_beat(ev_weight_beat), .ev_other_beat(ev_other_beat), .ev_nonzero(ev_nonzero),
      .m_axi_araddr(m_axi_araddr), .m_axi_arlen(m_axi_arlen), .m_axi_arvalid(m_axi_arvalid),
      .m_axi_arready(m_axi_arready), .m_axi_rdata(m_axi_rdata), .m_axi_rresp(m_axi_rresp),
      .m_axi_rlast(m_axi_rlast), .m_axi_rvalid(m_axi_rvalid), .m_axi_rready(m_axi_rready),
      .m_axi_awaddr(m_axi_awaddr), .m_axi_awlen(m_axi_awlen), .m_axi_awvalid(m_axi_awvalid),
      .m_axi_awready(m_axi_awready), .m_axi_wdata(m_axi_wdata), .m_axi_wstrb(m_axi_wstrb),
      .m_axi_wlast(m_axi_wlast), .m_axi_wvalid(m_axi_wvalid), .m_axi_wready(m_axi_wready),
      .m_axi_bresp(m_axi_bresp), .m_axi_bvalid(m_axi_bvalid), .m_axi_bready(m_axi_bready));

  // ---------------- telemetry: live counters and the shadow copy the host reads
  // The modeled energy per clock is five terms: registered (one DSP product), reduced carry-save,
  // then added in two 32-bit segments, EVD clocks in all. Every other event and the snapshot
  // requests are delayed by the same EVD clocks, so the counters and their snapshots are exactly
  // those of an undelayed design, EVD clocks later; register reads wait while a snapshot is in
  // flight.
  localparam int EVD = 4;
  localparam int ET = 48;   // energy per clock < 2^32 * (2 * BB + LANES + 2)
  logic [ET-1:0] en_t0, en_t1, en_t2, en_t3, en_t4, en_s, en_c, en_s1, en_c1, energy_step;
  always_ff @(posedge clk) begin
    en_t0 <= ET'(e_static);
    en_t1 <= ev_weight_beat ? ET'(e_wbyte) * ET'(BB) : '0;
    en_t2 <= ET'(e_lane) * ET'(ev_nonzero);
    en_t3 <= ev_ew_elem ? ET'(e_ew) : '0;
    en_t4 <= ev_other_beat ? ET'(e_mbyte) * ET'(BB) : '0;
    en_s1 <= en_s;
    en_c1 <= en_c;
  end
  mmfa_csa #(.N(5), .W(ET)) u_en_csa (.in({en_t4, en_t3, en_t2, en_t1, en_t0}), .s(en_s), .c(en_c));
  mmfa_padd #(.W(ET)) u_en_add (.clk(clk), .a(en_s1), .b(en_c1), .cin(1'b0), .sum(energy_step));

  logic snap_now, snap_d, snap_settle;
  logic [EVD-1:0] snap_pipe;   // snapshot requests in flight
  logic d_busy, d_tmv, d_ew, d_stall, d_wbeat, d_obeat, d_tok, d_desc;
  logic [CW-1:0] d_nz;
  logic [31:0] d_tok_cycles;
  assign snap_now = snap_req || ev_snapshot;
  assign snap_d = snap_pipe[EVD-1];
  mmfa_delay #(.W(8 + CW + 32), .N(EVD)) u_evd (.clk(clk),
      .d({!idle && !error, ev_tmv, ev_ew, ev_stall, ev_weight_beat, ev_other_beat, ev_token_done, ev_desc_done,
          ev_nonzero, ev_token_cycles}),
      .q({d_busy, d_tmv, d_ew, d_stall, d_wbeat, d_obeat, d_tok, d_desc, d_nz, d_tok_cycles}));
  always_ff @(posedge clk) begin
    if (rst) begin
      snap_pipe <= '0;
      snap_settle <= 1'b0;
    end else begin
      snap_pipe <= {snap_pipe[EVD-2:0], snap_now};
      snap_settle <= snap_d;   // the clock the copies' high halves take in their carries
    end
  end

  logic [63:0] shad [0:NC-1];
  logic [NC*64-1:0] cinc;   // each counter's increment this clock (64 bits each)
  always_comb begin
    cinc = '0;
    cinc[64*mmfa_regs_pkg::CNT_CYCLES_TOTAL +: 64] = 64'd1;
    cinc[64*mmfa_regs_pkg::CNT_CYCLES_BUSY +: 64] = 64'(d_busy);
    cinc[64*mmfa_regs_pkg::CNT_CYCLES_TMV +: 64] = 64'(d_tmv);
    cinc[64*mmfa_regs_pkg::CNT_CYCLES_EW +: 64] = 64'(d_ew);
    cinc[64*mmfa_regs_pkg::CNT_CYCLES_MEM_STALL +: 64] = 64'(d_stall);
    cinc[64*mmfa_regs_pkg::CNT_WEIGHT_BYTES +: 64] = d_wbeat ? 64'(BB) : 64'd0;
    cinc[64*mmfa_regs_pkg::CNT_OTHER_BYTES +: 64] = d_obeat ? 64'(BB) : 64'd0;
    cinc[64*mmfa_regs_pkg::CNT_LANE_OPS +: 64] = d_wbeat ? 64'(LANES) : 64'd0;
    cinc[64*mmfa_regs_pkg::CNT_NONZERO_WEIGHTS +: 64] = 64'(d_nz);
    cinc[64*mmfa_regs_pkg::CNT_TOKENS +: 64] = 64'(d_tok);
    cinc[64*mmfa_regs_pkg::CNT_ENERGY_FJ +: 64] = 64'(energy_step);
    cinc[64*mmfa_regs_pkg::CNT_DESCRIPTORS +: 64] = 64'(d_desc);
  end
  // one snapshot makes every counter of a read-out come from the same cycle
  for (genvar i = 0; i < NC; i++) begin : g_cnt
    localparam bit IS_LAST = (i == mmfa_regs_pkg::CNT_LAST_TOKEN_CYCLES);
    localparam int IW = (i == mmfa_regs_pkg::CNT_ENERGY_FJ) ? ET : 32;
    /* verilator lint_off UNUSEDSIGNAL */  // increments are narrower than 64 bits
    logic [63:0] inc;
    /* verilator lint_on UNUSEDSIGNAL */
    assign inc = cinc[64*i +: 64];
    mmfa_cnt64 #(.IW(IW)) u_c (.clk(clk), .rst(rst), .inc(IW'(inc)), .load(IS_LAST && d_tok),
                               .load_val(d_tok_cycles), .snap(snap_d), .shadow(shad[i]));
  end
  logic error_q;

  // ---------------- AXI4-Lite slave: address and data accepted together, one access at a time
  logic wr_go;
  assign wr_go = s_axil_awvalid && s_axil_wvalid && !s_axil_bvalid;
  assign s_axil_awready = wr_go;
  assign s_axil_wready = wr_go;
  assign s_axil_bresp = 2'b00;
  assign s_axil_arready = !s_axil_rvalid && snap_pipe == '0 && !snap_settle;
  assign s_axil_rresp = 2'b00;
  assign irq = gie && ((isr & ier) != 0);

  always_ff @(posedge clk) begin
    soft_rst <= 1'b0;
    snap_req <= 1'b0;
    if (rst) begin
      run <= 1'b0;
      gie <= 1'b0;
      ier <= '0;
      isr <= '0;
      scratch <= '0;
      ring_base <= '0;
      ring_mask <= '0;
      tail <= '0;
      e_static <= 32'(E_STATIC_FJ);
      e_wbyte <= 32'(E_WEIGHT_BYTE_FJ);
      e_lane <= 32'(E_LANE_OP_FJ);
      e_ew <= 32'(E_EW_OP_FJ);
      e_mbyte <= 32'(E_MEM_BYTE_FJ);
      s_axil_bvalid <= 1'b0;
      s_axil_rvalid <= 1'b0;
      s_axil_rdata <= '0;
      error_q <= 1'b0;
    end else begin
      error_q <= error;
      if (ev_desc_done) isr[0] <= 1'b1;
      if (error && !error_q) isr[1] <= 1'b1;
      if (s_axil_bvalid && s_axil_bready) s_axil_bvalid <= 1'b0;
      if (wr_go) begin
        s_axil_bvalid <= 1'b1;
        case (32'(s_axil_awaddr))
          mmfa_regs_pkg::REG_CTRL: begin
            run <= s_axil_wdata[mmfa_regs_pkg::CTRL_RUN_BIT];
            if (s_axil_wdata[mmfa_regs_pkg::CTRL_SOFT_RESET_BIT]) begin
              soft_rst <= 1'b1;
              tail <= '0;
              isr <= '0;
            end
            snap_req <= s_axil_wdata[mmfa_regs_pkg::CTRL_SNAPSHOT_BIT];
          end
          mmfa_regs_pkg::REG_GIE: gie <= s_axil_wdata[0];
          mmfa_regs_pkg::REG_IER: ier <= s_axil_wdata[1:0];
          mmfa_regs_pkg::REG_ISR: isr <= isr & ~s_axil_wdata[1:0];
          mmfa_regs_pkg::REG_SCRATCH: scratch <= s_axil_wdata;
          mmfa_regs_pkg::REG_RING_BASE_LO: ring_base <= s_axil_wdata;
          mmfa_regs_pkg::REG_RING_SIZE: ring_mask <= 16'(s_axil_wdata - 1);
          mmfa_regs_pkg::REG_DOORBELL: tail <= s_axil_wdata[15:0];
          mmfa_regs_pkg::REG_E_STATIC: e_static <= s_axil_wdata;
          mmfa_regs_pkg::REG_E_WEIGHT_BYTE: e_wbyte <= s_axil_wdata;
          mmfa_regs_pkg::REG_E_LANE_OP: e_lane <= s_axil_wdata;
          mmfa_regs_pkg::REG_E_EW_OP: e_ew <= s_axil_wdata;
          mmfa_regs_pkg::REG_E_MEM_BYTE: e_mbyte <= s_axil_wdata;
          default: ;
        endcase
      end
      if (s_axil_rvalid && s_axil_rready) s_axil_rvalid <= 1'b0;
      if (s_axil_arvalid && s_axil_arready) begin
        s_axil_rvalid <= 1'b1;
        s_axil_rdata <= '0;
        if (32'(s_axil_araddr) >= mmfa_regs_pkg::REG_COUNTER_BASE &&
            32'(s_axil_araddr) < mmfa_regs_pkg::REG_COUNTER_BASE + 8 * NC) begin
          s_axil_rdata <= s_axil_araddr[2] ? shad[(32'(s_axil_araddr) - mmfa_regs_pkg::REG_COUNTER_BASE) >> 3][63:32]
                                           : shad[(32'(s_axil_araddr) - mmfa_regs_pkg::REG_COUNTER_BASE) >> 3][31:0];
        end else begin
          case (32'(s_axil_araddr))
            mmfa_regs_pkg::REG_CTRL: s_axil_rdata <= (32'(run) << mmfa_regs_pkg::CTRL_RUN_BIT) |
                                                    (32'(idle) << mmfa_regs_pkg::CTRL_IDLE_BIT) |
                                                    (32'(!idle && !error) << mmfa_regs_pkg::CTRL_BUSY_BIT) |
                                                    (32'(error) << mmfa_regs_pkg::CTRL_ERROR_BIT);
            mmfa_regs_pkg::REG_GIE: s_axil_rdata <= 32'(gie);
            mmfa_regs_pkg::REG_IER: s_axil_rdata <= 32'(ier);
            mmfa_regs_pkg::REG_ISR: s_axil_rdata <= 32'(isr);
            mmfa_regs_pkg::REG_MAGIC: s_axil_rdata <= mmfa_regs_pkg::MAGIC_VALUE;
            mmfa_regs_pkg::REG_VERSION: s_axil_rdata <= mmfa_regs_pkg::VERSION_VALUE;
            mmfa_regs_pkg::REG_CAPS_LANES: s_axil_rdata <= 32'(LANES);
            mmfa_regs_pkg::REG_CAPS_VREGS: s_axil_rdata <= 32'(NV);
            mmfa_regs_pkg::REG_CAPS_DMAX: s_axil_rdata <= 32'(DMAX);
            mmfa_regs_pkg::REG_CAPS_PROG_DEPTH: s_axil_rdata <= 32'(PROG_DEPTH);
            mmfa_regs_pkg::REG_CAPS_CLK_HZ: s_axil_rdata <= 32'(CLK_HZ);
            mmfa_regs_pkg::REG_CAPS_FEATURES: s_axil_rdata <= 32'h3;
            mmfa_regs_pkg::REG_SCRATCH: s_axil_rdata <= scratch;
            mmfa_regs_pkg::REG_CAPS_BEAT_BYTES: s_axil_rdata <= 32'(BB);
            mmfa_regs_pkg::REG_RING_BASE_LO: s_axil_rdata <= ring_base;
            mmfa_regs_pkg::REG_RING_SIZE: s_axil_rdata <= 32'(ring_mask) + 1;
            mmfa_regs_pkg::REG_DOORBELL: s_axil_rdata <= 32'(tail);
            mmfa_regs_pkg::REG_HEAD: s_axil_rdata <= 32'(head);
            mmfa_regs_pkg::REG_COMPLETION_SEQ: s_axil_rdata <= 32'(comp_seq);
            mmfa_regs_pkg::REG_ERROR: s_axil_rdata <= error ? {err_desc, 8'd0, err_code} : 32'd0;
            mmfa_regs_pkg::REG_ERROR_PC: s_axil_rdata <= 32'(err_pc);
            mmfa_regs_pkg::REG_ARGMAX_INDEX: s_axil_rdata <= argmax_idx;
            mmfa_regs_pkg::REG_ARGMAX_VALUE: s_axil_rdata <= argmax_val;
            mmfa_regs_pkg::REG_E_STATIC: s_axil_rdata <= e_static;
            mmfa_regs_pkg::REG_E_WEIGHT_BYTE: s_axil_rdata <= e_wbyte;
            mmfa_regs_pkg::REG_E_LANE_OP: s_axil_rdata <= e_lane;
            mmfa_regs_pkg::REG_E_EW_OP: s_axil_rdata <= e_ew;
            mmfa_regs_pkg::REG_E_MEM_BYTE: s_axil_rdata <= e_mbyte;
            mmfa_regs_pkg::REG_POWER_SOURCE: s_axil_rdata <= mmfa_regs_pkg::POWER_SOURCE_MODELED;
            default: ;
          endcase
        end
      end
    end
  end
endmodule
