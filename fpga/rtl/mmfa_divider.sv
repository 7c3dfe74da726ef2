// SPDX-License-Identifier: Apache-2.0
// Sequential restoring divider: floor(num / den), one quotient bit per cycle. The scalar steps
// (mean of squares, 1/rms, 127/absmax) run a few times per vector, so W cycles each is cheap
// next to the mat-vecs and far smaller than a combinational divider.
module mmfa_divider #(
    parameter int W = 80
) (
    input  logic         clk,
    input  logic         rst,
    input  logic         start,
    input  logic [W-1:0] num,
    input  logic [W-1:0] den,
    output logic         busy,
    output logic         done,   // one-cycle pulse, quo valid from then on
    output logic [W-1:0] quo
);
  logic [W-1:0] rem;
  logic [$clog2(W+1)-1:0] count;
  logic [W:0] trial;
  assign trial = {rem[W-1:0], quo[W-1]};

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      done <= 1'b0;
      count <= '0;
      rem <= '0;
      quo <= '0;
    end else begin
      done <= 1'b0;
      if (start) begin
        busy <= 1'b1;
        quo <= num;
        rem <= '0;
        count <= ($clog2(W+1))'(W);
      end else if (busy) begin
        if (trial >= {1'b0, den}) begin
          rem <= W'(trial - {1'b0, den});
          quo <= {quo[W-2:0], 1'b1};
        end else begin
          rem <= trial[W-1:0];
          quo <= {quo[W-2:0], 1'b0};
        end
        count <= count - 1'b1;
        if (count == 1) begin
          busy <= 1'b0;
          done <= 1'b1;
        end
      end
    end
  end
endmodule
