// SPDX-License-Identifier: Apache-2.0
// Balanced binary adder tree over N signed IW-bit inputs. Written recursively so every level
// only carries the bits it needs (width grows by one per level), which keeps the LUT count
// close to the measured conditional-invert + popcount prototype.
module mmfa_addtree #(
    parameter int N  = 8,
    parameter int IW = 9,
    parameter int OW = IW + $clog2(N)
) (
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
    mmfa_addtree #(.N(NL), .IW(IW), .OW(WL)) u_l (.in(in[NL*IW-1:0]), .sum(sl));
    mmfa_addtree #(.N(NR), .IW(IW), .OW(WR)) u_r (.in(in[N*IW-1:NL*IW]), .sum(sr));
    assign sum = OW'($signed(sl)) + OW'($signed(sr));
  end
endmodule
