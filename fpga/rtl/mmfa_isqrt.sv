// SPDX-License-Identifier: Apache-2.0
// Sequential integer square root, floor(sqrt(num)), two input bits per step (W/2 steps of NS
// clocks; the leading steps while op < one and nothing is found yet take one clock each). res and one never share a bit, so res + one and (res >> 1) + one are ORs; the W+1-bit
// compare-subtract op - (res | one) is cut into NS segments of SEG bits with registered borrows,
// as in mmfa_divider.
module mmfa_isqrt #(
    parameter int W   = 80,   // even
    parameter int SEG = 32
) (
    input  logic           clk,
    input  logic           rst,
    input  logic           start,
    input  logic [W-1:0]   num,
    output logic           busy,
    output logic           done,
    output logic [W/2-1:0] root
);
  localparam int NS = (W + 1 + SEG - 1) / SEG;
  localparam int PB = (NS > 1) ? $clog2(NS) : 1;
  logic [W-1:0] op;
  logic [W-1:0] res;
  logic [W-1:0] one;
  logic [W-1:0] above;   // the bits at and above one's: op < one exactly when op & above == 0
  logic [$clog2(W)-1:0] count;
  logic [PB-1:0] phase;
  logic [W:0] ov, tv;
  /* verilator lint_off UNUSEDSIGNAL */  // diff[W] is 0 whenever it is used (op >= trial)
  logic [W:0] diff;
  /* verilator lint_on UNUSEDSIGNAL */
  logic below;   // op < trial, exact on the step's last clock
  assign ov = {1'b0, op};
  assign tv = {1'b0, res | one};
  assign root = res[W/2-1:0];
  mmfa_segsub #(.W(W + 1), .SEG(SEG)) u_sub (.clk(clk), .a(ov), .b(tv), .diff(diff), .borrow(below));

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      done <= 1'b0;
      op <= '0;
      res <= '0;
      one <= '0;
      above <= '0;
      count <= '0;
      phase <= '0;
    end else begin
      done <= 1'b0;
      if (start) begin
        busy <= 1'b1;
        op <= num;
        res <= '0;
        one <= {2'b01, {(W-2){1'b0}}};
        above <= {2'b11, {(W-2){1'b0}}};
        phase <= '0;
        count <= ($clog2(W))'(W / 2);
      end else if (busy) begin
        if (phase == '0 && res == '0 && (op & above) == '0 && count > 1) begin
          // nothing found yet and op < one: the step keeps res = 0, one clock instead of NS
          one <= one >> 2;
          above <= {2'b11, above[W-1:2]};
          count <= count - 1'b1;
        end else if (phase != PB'(NS - 1)) phase <= phase + 1'b1;
        else begin
          phase <= '0;
          if (!below) begin
            op <= diff[W-1:0];
            res <= (res >> 1) | one;
          end else begin
            res <= res >> 1;
          end
          one <= one >> 2;
          above <= {2'b11, above[W-1:2]};
          count <= count - 1'b1;
          if (count == 1) begin
            busy <= 1'b0;
            done <= 1'b1;
          end
        end
      end
    end
  end
endmodule
