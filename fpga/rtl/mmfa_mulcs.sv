// SPDX-License-Identifier: Apache-2.0
// a * b + x (+ 2^(SH-1) when SH > 0) as a carry-save pair, two clocks after the operands: partial
// products that each fit one DSP48E1 (a side: 17-bit limbs, b side: 24-bit limbs, the top limbs
// signed), registered, then rows of 3:2 compressors (LUT levels, no carry chain), registered.
// s + c (mod 2^PW) is the exact result; mmfa_padd turns it into a number.
module mmfa_mulcs #(
    parameter int AW = 18,
    parameter int BW = 25,
    parameter int XW = 1,    // addend width (signed)
    parameter int SH = 0,    // rounding position (0: none)
    parameter int PW = ((AW + BW > XW) ? AW + BW : XW) + 1
) (
    input  logic          clk,
    input  logic [AW-1:0] a,
    input  logic [BW-1:0] b,
    input  logic [XW-1:0] x,
    output logic [PW-1:0] s,
    output logic [PW-1:0] c
);
  localparam int NA = (AW <= 18) ? 1 : 1 + (AW - 18 + 16) / 17;
  localparam int NB = (BW <= 25) ? 1 : 1 + (BW - 25 + 23) / 24;
  localparam int NT = NA * NB + 2;

  // partial products, registered (one DSP48E1 each)
  logic [NT*PW-1:0] terms;
  for (genvar i = 0; i < NA; i++) begin : g_a
    localparam int ALO = 17 * i;
    localparam int AWI = (i == NA - 1) ? AW - ALO : 17;
    logic signed [17:0] al;
    if (i == NA - 1) begin : g_top
      assign al = 18'($signed(a[AW-1:ALO]));
    end else begin : g_low
      assign al = {1'b0, a[ALO +: AWI]};
    end
    for (genvar j = 0; j < NB; j++) begin : g_b
      localparam int BLO = 24 * j;
      localparam int BWJ = (j == NB - 1) ? BW - BLO : 24;
      logic signed [24:0] bl;
      if (j == NB - 1) begin : g_top
        assign bl = 25'($signed(b[BW-1:BLO]));
      end else begin : g_low
        assign bl = {1'b0, b[BLO +: BWJ]};
      end
      logic signed [42:0] p;
      always_ff @(posedge clk) p <= 43'(al) * 43'(bl);
      assign terms[(i*NB+j)*PW +: PW] = PW'($signed(p)) <<< (ALO + BLO);
    end
  end
  // the addend and the rounding constant travel with the partial products
  logic [XW-1:0] x1;
  always_ff @(posedge clk) x1 <= x;
  assign terms[(NT-2)*PW +: PW] = PW'($signed(x1));
  assign terms[(NT-1)*PW +: PW] = PW'(SH > 0) << ((SH > 0) ? SH - 1 : 0);

  logic [PW-1:0] cs_s, cs_c;
  mmfa_csa #(.N(NT), .W(PW)) u_csa (.in(terms), .s(cs_s), .c(cs_c));
  always_ff @(posedge clk) begin
    s <= cs_s;
    c <= cs_c;
  end
endmodule

