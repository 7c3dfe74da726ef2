// SPDX-License-Identifier: Apache-2.0
// Shared by the GLSL shaders and the C++ host code: the push-constant slots and flags.
// Every kernel gets the same push-constant block: four base addresses (buffer device addresses of
// the weight arena, the activation arena, the upload and the read-back buffer) and 24 32-bit
// slots. Buffer locations are "refs": region (2 bits) << 30 | offset in 4-byte words, so one
// 32-bit slot names any tensor and no descriptor sets are needed (lavapipe's 128 MiB binding
// limit does not apply to addresses).
#ifndef MMFREE_SHADER_LAYOUT_H
#define MMFREE_SHADER_LAYOUT_H

#define REGION_WEIGHTS 0u
#define REGION_ACT 1u
#define REGION_UPLOAD 2u
#define REGION_READBACK 3u

// Prologue (input vector → int8 activations) — prep and gemv.
#define P_K 0          // input length K
#define P_KW 1         // q words per row (padded K / 4)
#define P_T 2          // rows (tokens)
#define P_IN0 3        // mode-dependent inputs, see prologue.glsl
#define P_IN1 4
#define P_IN2 5
#define P_XOUT 6       // residual / recurrence output written by the owner
#define P_NORM 7       // the layer's RMSNorm weight
#define P_GAMMA 8      // BitLinear norm weights [nsets][K]
#define P_TOK 9        // IFG: token ids; HEAD gemv: argmax partials
#define P_FLAGS 10
#define P_EMB 11       // IFG: embeddings
#define P_EPS 12       // the layer norm's eps (float bits)
#define P_STRIDE_IN 13 // row stride of IN0/IN1 in floats (O, DOWN)
#define P_Q 14         // q words [nsets][T][KW]
#define P_QSCALE 15    // activation scales s [nsets][T]
#define P_QSUM 16      // Σq [nsets][T]
// BitLinear (gemv / gemm).
#define P_CODES 17     // packed ternary codes, row-major
#define P_WSCALE 18    // per-set weight scale m
#define P_OUT 19       // outputs [T][OUTSTRIDE], column = set·N + row
#define P_N 20         // rows per set
#define P_RPW 21       // gemv: rows per workgroup
#define P_WGSET 22     // workgroups (gemm: row tiles) per set
#define P_OUTSTRIDE 23
// Decode i/f/g with the MLGRU step (gemv GROUP 3), in slots that path leaves free.
#define P_STATE P_QSCALE  // h[l]: read, then updated in place
#define P_LB P_QSUM       // the layer's lower bounds (F_LB)
// Sequence slots (decode gemv, scan): states live at [slot][layer][D]; a kernel's state ref points
// at slot 0's layer, row t's sequence is slot P_SLOTS[t], P_SSTRIDE floats further per slot.
#define P_SLOTS P_Q
#define P_SSTRIDE P_OUTSTRIDE

#define F_FIRST 1u      // IFG: layer 0 reads the embedding row
#define F_LB 2u         // gemv GROUP 3: apply the lower bound
#define F_RAW 4u        // write the int32 accumulator bits instead of the scaled output (tests)
#define F_ARGMAX 8u     // HEAD gemv: write per-workgroup argmax partials to P_TOK
#define F_SLOTS 16u     // prologue MODE_O: h of row t is the state of slot P_SLOTS[t] (decode), not row t of IN2
#define F_QOUT 32u      // gemv: workgroup 0 also stores its q/scale/Σq (tests)
#define F_STEP 64u      // scan: every row is another sequence, one step each (batched decode)
#define F_ROWS 128u     // argmax: one workgroup per row of P_N logits, not lm_head partials

#define MODE_IFG 0u     // v = E[tok] or x+a+d; u = RMSNorm(v); three BitLinears (i, f, g)
#define MODE_O 2u       // v = RMSNorm(ag)·silu(h) (prefill: after the scan; decode: after i/f/g's MLGRU step)
#define MODE_GATE 3u    // v = x+a; u = RMSNorm(v)
#define MODE_DOWN 4u    // v = silu(gate)·up (prefill; decode's gate/up dispatch writes it, read as RAW)
#define MODE_HEAD 5u    // v = x+a+d; u = RMSNorm(v; final norm)
#define MODE_RAW 6u     // v = input row as is (kernel tests; decode: down_proj on the SwiGLU output)
#define MODE_QIN 7u     // gemv only: q, s and Σq come from memory (a prep kernel wrote them)

#define GEMM_BM 64
#define GEMM_BN 64

#endif
