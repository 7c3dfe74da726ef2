// SPDX-License-Identifier: Apache-2.0
// Test-only wrapper: exposes each datapath block of the accelerator on its own pins, so one
// Verilated model serves every per-block test (tst_fpga_blocks.cpp).
module mmfa_blocks_tb (
    input  logic         clk,
    input  logic         rst,
    input  logic [7:0]   ew_op,
    input  logic         ew_gated,
    input  logic [51:0]  ew_a, ew_b, ew_c, ew_d,
    input  logic [24:0]  ew_sig0, ew_sig1,
    input  logic [60:0]  ew_rrec,
    input  logic [58:0]  ew_qrecip,
    output logic [51:0]  ew_result,
    output logic [7:0]   ew_q,
    input  logic [127:0] dot_codes,
    input  logic [511:0] dot_act,
    output logic [31:0]  dot_out,
    output logic [7:0]   dot_nz,
    input  logic         div_start,
    input  logic [119:0] div_num, div_den,
    output logic         div_busy, div_done,
    output logic [119:0] div_quo,
    input  logic         sq_start,
    input  logic [119:0] sq_num,
    output logic         sq_busy, sq_done,
    output logic [59:0]  sq_root,
    input  logic [11:0]  rom_addr,
    output logic [40:0]  rom_data
);
  mmfa_ew u_ew (.clk(clk), .op(ew_op), .gated(ew_gated), .a(ew_a), .b(ew_b), .c(ew_c), .d(ew_d), .sig0(ew_sig0), .sig1(ew_sig1),
                .rrec(ew_rrec), .qrecip(ew_qrecip), .result(ew_result), .q(ew_q));
  mmfa_tmv_dot #(.LANES(64)) u_dot (.clk(clk), .codes(dot_codes), .act(dot_act), .dot(dot_out), .nonzero(dot_nz));
  mmfa_divider #(.W(120)) u_div (.clk(clk), .rst(rst), .start(div_start), .num(div_num), .den(div_den), .busy(div_busy),
                               .done(div_done), .quo(div_quo));
  mmfa_isqrt #(.W(120)) u_sq (.clk(clk), .rst(rst), .start(sq_start), .num(sq_num), .busy(sq_busy), .done(sq_done),
                            .root(sq_root));
  mmfa_sigmoid_rom #(.AB(12)) u_rom (.clk(clk), .addr(rom_addr), .data(rom_data));
endmodule
