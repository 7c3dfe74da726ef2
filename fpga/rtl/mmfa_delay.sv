// SPDX-License-Identifier: Apache-2.0
// N-clock delay line (N = 0: a wire). Pure shift registers without reset or enable, so synthesis
// can pack them into SRLs; used to keep operands aligned with the pipelined arithmetic units.
module mmfa_delay #(
    parameter int W = 1,
    parameter int N = 1
) (
    /* verilator lint_off UNUSEDSIGNAL */  // N = 0 has no registers
    input  logic         clk,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [W-1:0] d,
    output logic [W-1:0] q
);
  if (N == 0) begin : g_wire
    assign q = d;
  end else begin : g_regs
    logic [W-1:0] r [0:N-1];
    always_ff @(posedge clk) r[0] <= d;
    for (genvar i = 1; i < N; i++) begin : g_stage
      always_ff @(posedge clk) r[i] <= r[i-1];
    end
    assign q = r[N-1];
  end
endmodule
