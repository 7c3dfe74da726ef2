// SPDX-License-Identifier: Apache-2.0
// 64-bit telemetry counter with its snapshot copy, in two 32-bit halves so no carry chain is
// longer than 32 bits: the low half adds inc[31:0]; the high half adds inc's upper bits and the
// low half's carry one clock later. A snapshot copies both halves and that pending amount; the
// copy's high half takes it in on the next clock. load sets the counter to a 32-bit value.
module mmfa_cnt64 #(
    parameter int IW = 1   // increment width, <= 64
) (
    input  logic          clk,
    input  logic          rst,
    input  logic [IW-1:0] inc,
    input  logic          load,
    input  logic [31:0]   load_val,
    input  logic          snap,
    output logic [63:0]   shadow
);
  localparam int HW = (IW > 32) ? IW - 32 : 1;
  logic [31:0] lo, hi, s_lo, s_hi, s_pend, s_hi_fix;
  logic [HW-1:0] inc_hi;   // the increment's upper bits, added to hi one clock later
  logic cy;
  logic [31:0] inc_lo;
  assign inc_lo = 32'(inc);
  always_ff @(posedge clk) begin
    if (rst) begin
      lo <= '0;
      hi <= '0;
      cy <= 1'b0;
      inc_hi <= '0;
    end else if (load) begin
      lo <= load_val;
      hi <= '0;
      cy <= 1'b0;
      inc_hi <= '0;
    end else begin
      {cy, lo} <= {1'b0, lo} + {1'b0, inc_lo};
      hi <= hi + 32'(inc_hi) + 32'(cy);
      inc_hi <= (IW > 32) ? HW'(inc >> 32) : '0;
    end
  end
  always_ff @(posedge clk) begin
    if (rst) begin
      s_lo <= '0;
      s_hi <= '0;
      s_pend <= '0;
      s_hi_fix <= '0;
    end else begin
      if (snap) begin
        s_lo <= lo;
        s_hi <= hi;
        s_pend <= 32'(inc_hi) + 32'(cy);
      end
      s_hi_fix <= s_hi + s_pend;
    end
  end
  assign shadow = {s_hi_fix, s_lo};
endmodule
