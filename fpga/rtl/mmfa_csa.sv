// SPDX-License-Identifier: Apache-2.0
// Carry-save reduction of N W-bit terms to two (s + c equals their sum mod 2^W): rows of 3:2
// compressors, one LUT level each and no carry chain. Recursive, like mmfa_addtree.
module mmfa_csa #(
    parameter int N = 3,
    parameter int W = 8
) (
    input  logic [N*W-1:0] in,
    output logic [W-1:0]   s,
    output logic [W-1:0]   c
);
  if (N == 1) begin : g_one
    assign s = in;
    assign c = '0;
  end else if (N == 2) begin : g_two
    assign s = in[W-1:0];
    assign c = in[2*W-1:W];
  end else begin : g_row
    localparam int G = N / 3;
    localparam int R = N - 3 * G;
    localparam int NN = 2 * G + R;
    logic [NN*W-1:0] nx;
    for (genvar g = 0; g < G; g++) begin : g_fa
      logic [W-1:0] x, y, z;
      assign x = in[(3*g)*W +: W];
      assign y = in[(3*g+1)*W +: W];
      assign z = in[(3*g+2)*W +: W];
      assign nx[(2*g)*W +: W] = x ^ y ^ z;
      assign nx[(2*g+1)*W +: W] = {((x[W-2:0] & y[W-2:0]) | (x[W-2:0] & z[W-2:0]) | (y[W-2:0] & z[W-2:0])), 1'b0};
    end
    if (R > 0) begin : g_rest
      assign nx[2*G*W +: R*W] = in[3*G*W +: R*W];
    end
    mmfa_csa #(.N(NN), .W(W)) u_next (.in(nx), .s(s), .c(c));
  end
endmodule
