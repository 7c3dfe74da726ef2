// SPDX-License-Identifier: Apache-2.0
// Sequential restoring divider: floor(num / den) for den >= 1, one quotient bit per NS clocks
// (leading zero bits of num, while the remainder is 0, at four or one per clock). The W+1-bit
// compare-subtract of each step is cut into NS segments of SEG bits whose borrows are
// registered: segment k sees the right borrow from the clock k of the step on, so on the step's
// last clock every segment's difference and the final borrow are exact, and no clock holds a
// carry chain longer than SEG bits. The scalar steps (mean of squares, 1/rms, 127/absmax) run a
// few times per vector, so W * NS clocks each is cheap next to the mat-vecs.
module mmfa_divider #(
    parameter int W   = 80,
    parameter int SEG = 32
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
  localparam int NS = (W + 1 + SEG - 1) / SEG;
  localparam int PB = (NS > 1) ? $clog2(NS) : 1;
  logic [W-1:0] rem, dr;
  logic [$clog2(W+1)-1:0] count;
  logic [PB-1:0] phase;
  logic [W:0] trial, dv;
  /* verilator lint_off UNUSEDSIGNAL */  // diff[W] is 0 whenever it is used (trial >= den)
  logic [W:0] diff;
  /* verilator lint_on UNUSEDSIGNAL */
  logic below;              // trial < den, exact on the step's last clock
  assign trial = {rem, quo[W-1]};
  assign dv = {1'b0, dr};
  mmfa_segsub #(.W(W + 1), .SEG(SEG)) u_sub (.clk(clk), .a(trial), .b(dv), .diff(diff), .borrow(below));

  always_ff @(posedge clk) begin
    if (rst) begin
      busy <= 1'b0;
      done <= 1'b0;
      count <= '0;
      phase <= '0;
      rem <= '0;
      quo <= '0;
      dr <= '0;
    end else begin
      done <= 1'b0;
      if (start) begin
        busy <= 1'b1;
        quo <= num;
        dr <= den;
        rem <= '0;
        phase <= '0;
        count <= ($clog2(W+1))'(W);
      end else if (busy) begin
        if (phase == '0 && rem == '0 && quo[W-1:W-4] == '0 && count > 4) begin
          // leading zeros of num while nothing is left over: quotient bits 0, four per clock
          quo <= {quo[W-5:0], 4'd0};
          count <= count - 7'd4;
        end else if (phase == '0 && rem == '0 && !quo[W-1] && count > 1) begin
          quo <= {quo[W-2:0], 1'b0};
          count <= count - 1'b1;
        end else if (phase != PB'(NS - 1)) phase <= phase + 1'b1;
        else begin
          phase <= '0;
          if (!below) begin
            rem <= diff[W-1:0];
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
  end
endmodule
