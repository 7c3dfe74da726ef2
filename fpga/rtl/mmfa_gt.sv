// SPDX-License-Identifier: Apache-2.0
// Unsigned a > b as a tree of (greater, equal) pairs over 2-bit leaves: LUT levels only, about
// log2(W) deep, where a compare on the carry chain would cost a CARRY4 per 4 bits.
module mmfa_gt #(
    parameter int W = 52
) (
    input  logic [W-1:0] a,
    input  logic [W-1:0] b,
    output logic         gt,
    output logic         eq
);
  if (W <= 2) begin : g_leaf
    assign gt = a > b;
    assign eq = a == b;
  end else begin : g_node
    localparam int WL = W / 2;
    logic gl, el, gh, eh;
    mmfa_gt #(.W(WL)) u_lo (.a(a[WL-1:0]), .b(b[WL-1:0]), .gt(gl), .eq(el));
    mmfa_gt #(.W(W - WL)) u_hi (.a(a[W-1:WL]), .b(b[W-1:WL]), .gt(gh), .eq(eh));
    assign gt = gh || (eh && gl);
    assign eq = eh && el;
  end
endmodule
