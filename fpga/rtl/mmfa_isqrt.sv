// SPDX-License-Identifier: Apache-2.0
// Sequential integer square root, floor(sqrt(num)), two input bits per cycle (W/2 cycles).
module mmfa_isqrt #(
    parameter int W = 80   // even
) (
    input  logic           clk,
    input  logic           rst,
    input  logic           start,
    input  logic [W-1:0]   num,
    output logic           busy,
    output logic           done,
    output logic [W/2-1:0] root
);
  logic [W-1:0] op;
  logic [W-1:0] res;
  logic [W-1:0] one;
  logic [$clog2(W)-1:0] count;
  logic [W:0] trial;   // one bit wider: res + one may carry out for inputs near 2^W
  assign trial = {1'b0, res} + {1'b0, one};
  assign root = res[W/2-1:0];

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      done <= 1'b0;
      op <= '0;
      res <= '0;
      one <= '0;
      count <= '0;
    end else begin
      done <= 1'b0;
      if (start) begin
        busy <= 1'b1;
        op <= num;
        res <= '0;
        one <= {2'b01, {(W-2){1'b0}}};
        count <= ($clog2(W))'(W / 2);
      end else if (busy) begin
        if ({1'b0, op} >= trial) begin
          op <= W'({1'b0, op} - trial);
          res <= (res >> 1) + one;
        end else begin
          res <= res >> 1;
        end
        one <= one >> 2;
        count <= count - 1'b1;
        if (count == 1) begin
          busy <= 1'b0;
          done <= 1'b1;
        end
      end
    end
  end
endmodule
