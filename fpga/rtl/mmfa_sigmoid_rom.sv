// SPDX-License-Identifier: Apache-2.0
// Sigmoid segments {node value Q0.24 (25 bits), step to the next node (16 bits)}, registered
// read so synthesis maps it to block RAM.
// Contents come from gen_sigmoid_rom.py, the same script that writes the golden model's copy.
module mmfa_sigmoid_rom #(
    parameter int AB = 12   // must equal mmfa_regs_pkg::SIG_ROM_BITS (the generated case items)
) (
    input  logic          clk,
    input  logic [AB-1:0] addr,
    output logic [40:0]   data
);
  always_ff @(posedge clk) begin
    case (addr)
`include "sigmoid_rom_case.svh"
      default: data <= '0;
    endcase
  end
endmodule
