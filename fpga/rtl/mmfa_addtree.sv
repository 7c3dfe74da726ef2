// SPDX-License-Identifier: Apache-2.0
// Balanced binary adder tree over N signed IW-bit inputs. Written recursively so every level
// only carries the bits it needs (width grows by one per level), which keeps the LUT count
// close to the measured conditional-invert + popcount prototype. With PIPE = 1 the sums of every
// second level are registered (two adder levels per clock): latency $clog2(N) / 2 for a power of
// two N, where all paths see the same number of registers.
module mmfa_addtree #(
    parameter int N    = 8,
    parameter int IW   = 9,
    parameter int OW   = IW + $clog2(N),
    parameter int PIPE = 0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // leaves and unpipelined trees have no registers
    input  logic            clk,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [N*IW-1:0] in,
    output logic [OW-1:0]   sum
);
  if (N == 1) begin : g_leaf
    assign sum = OW'($signed(in));
  end else begin : g_node
    localparam int NL = N / 2;
    localparam int NR = N - NL;
    localparam int WL = IW + $clog2(NL);
    localparam int WR = IW + $clog2(NR);
    logic [WL-1:0] sl;
    logic [WR-1:0] sr;
    logic [OW-1:0] s;
    mmfa_addtree #(.N(NL), .IW(IW), .OW(WL), .PIPE(PIPE)) u_l (.clk(clk), .in(in[NL*IW-1:0]), .sum(sl));
    mmfa_addtree #(.N(NR), .IW(IW), .OW(WR), .PIPE(PIPE)) u_r (.clk(clk), .in(in[N*IW-1:NL*IW]), .sum(sr));
    assign s = OW'($signed(sl)) + OW'($signed(sr));
    if (PIPE != 0 && $clog2(N) % 2 == 0) begin : g_reg
      logic [OW-1:0] q;
      always_ff @(posedge clk) q <= s;
      assign sum = q;
    end else begin : g_comb
      assign sum = s;
    end
  end
endmodule
