// SPDX-License-Identifier: Apache-2.0
// Sigmoid table, Q0.16 output, registered read so synthesis maps it to block RAM.
// Contents come from gen_sigmoid_rom.py, the same script that writes the golden model's copy.
module mmfa_sigmoid_rom #(
    parameter int AB = 14
) (
    input  logic          clk,
    input  logic [AB-1:0] addr,
    output logic [16:0]   data
);
  logic [16:0] rom [0:(1<<AB)-1];
`include "sigmoid_rom_init.svh"
  always_ff @(posedge clk) data <= rom[addr];
endmodule
