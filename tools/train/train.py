#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Train the MMfree Studio demo model: HGRNBit (MatMul-free LM) of MODEL_SPEC.md.

Every projection is a BitLinear with straight-through fake quantisation (per-tensor absmean
ternary weights, per-row absmax int8 activations), the token mixer is the MLGRU with lower
bounds, the channel mixer a SwiGLU. Forward math and tensor names follow
/work/shared/MODEL_SPEC.md exactly, so the export loads in any HGRNBit implementation.

Runs on one CUDA GPU (bf16 autocast, torch.compile, a Triton scan for the recurrence); the
same code runs on the CPU (slowly) for checks. Training can be split into segments that stop
after --time-budget seconds and resume from --ckpt: the data order and the learning-rate
schedule depend on the step number alone, so a split run follows the same path as one run.

Held-out evaluation (what `mmfree perplexity` must reproduce), per held-out book:
  ids = SentencePiece(book text)            # the whole normalised file, no BOS, no EOS
  chunks = ids[0:C], ids[C:2C], ...         # non-overlapping, C = --seq (1024); last one shorter
  for every chunk: the state starts at zero, the model reads [BOS] + chunk[:-1] and predicts
  every token of the chunk, so each chunk token is predicted exactly once (the first one from
  BOS alone).  ppl = exp(sum of NLL over all predicted tokens / number of predicted tokens).
It is computed in fp32 (no TF32) with the exact integer quantisation, on the weights after
rounding to bf16 (what the export holds).
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

T_START = time.time()
EPS = 1e-6
BOS_ID, EOS_ID = 1, 2

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU-only machine: the reference scan is used
    triton = None


# ----------------------------------------------------------------------------------------
# Quantisation (MODEL_SPEC.md, "BitLinear")
# ----------------------------------------------------------------------------------------

def round_half_away(x):
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def rms_norm(x, weight):
    x = x.float()
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * weight.float()


def bit_linear(x, weight, norm_weight):
    """RMSNorm -> int8 absmax activations -> ternary absmean weights, straight-through.

    Forward: y = (sum_k q_k T_nk) * m / s with q, T integers (exact in bf16 and fp32, and the
    fp32-accumulated sums are exact integers), so in fp32 this is the spec's computation.
    Backward: identity through both roundings (the usual STE), no gradient through s and m.
    """
    y = rms_norm(x, norm_weight)
    s = (127.0 / y.abs().amax(-1, keepdim=True).clamp(min=1e-5)).detach()
    a = y * s
    a_q = a + (torch.clamp(round_half_away(a), -128.0, 127.0) - a).detach()
    w = weight.float()
    m = w.abs().mean().clamp(min=1e-5).detach()
    w_s = w / m
    t_q = w_s + (torch.clamp(torch.round(w_s), -1.0, 1.0) - w_s).detach()  # round half even
    acc = F.linear(a_q, t_q)
    return acc.float() * m / s


def lower_bound_table(lower_bounds):
    """lb[l] = cumsum(softmax over layers)[l] - p[0]; lb[0] == 0 exactly."""
    p = torch.softmax(lower_bounds.float(), dim=0)
    return torch.cumsum(p, dim=0) - p[0]


# ----------------------------------------------------------------------------------------
# The recurrence h_t = f_t * h_{t-1} + i_t (h_{-1} = 0), per channel
# ----------------------------------------------------------------------------------------

def scan_reference(f, i):
    h = torch.zeros_like(i[:, 0])
    out = []
    for t in range(i.shape[1]):
        h = f[:, t] * h + i[:, t]
        out.append(h)
    return torch.stack(out, 1)


if triton is not None:
    @triton.jit
    def _affine_combine(a1, b1, a2, b2):
        # x -> a1 x + b1, then x -> a2 x + b2
        return a1 * a2, a2 * b1 + b2

    @triton.jit
    def _scan_fwd_kernel(F_ptr, I_ptr, H_ptr, T, D, BT: tl.constexpr, BD: tl.constexpr):
        # One program: one sequence, BD channels; time in tiles of BT, scanned in parallel
        # inside a tile, carried sequentially across tiles.
        pid_b = tl.program_id(0)
        pid_d = tl.program_id(1)
        offs_d = pid_d * BD + tl.arange(0, BD)
        mask_d = offs_d < D
        base = pid_b.to(tl.int64) * T * D
        carry = tl.zeros([BD], dtype=tl.float32)
        for t0 in range(0, T, BT):
            offs_t = t0 + tl.arange(0, BT)
            mask = (offs_t[:, None] < T) & mask_d[None, :]
            ptr = base + offs_t[:, None] * D + offs_d[None, :]
            f = tl.load(F_ptr + ptr, mask=mask, other=1.0).to(tl.float32)
            x = tl.load(I_ptr + ptr, mask=mask, other=0.0).to(tl.float32)
            a, b = tl.associative_scan((f, x), 0, _affine_combine)
            h = a * carry[None, :] + b
            tl.store(H_ptr + ptr, h, mask=mask)
            carry = tl.sum(tl.where(offs_t[:, None] == t0 + BT - 1, h, 0.0), axis=0)

    @triton.jit
    def _scan_bwd_kernel(F_ptr, H_ptr, GH_ptr, GI_ptr, GF_ptr, T, D,
                         BT: tl.constexpr, BD: tl.constexpr):
        # G[t] = gh[t] + f[t+1] G[t+1];  di[t] = G[t];  df[t] = G[t] h[t-1].
        # Walk time backwards: k = 0..T-1 is t = T-1-k.
        pid_b = tl.program_id(0)
        pid_d = tl.program_id(1)
        offs_d = pid_d * BD + tl.arange(0, BD)
        mask_d = offs_d < D
        base = pid_b.to(tl.int64) * T * D
        carry = tl.zeros([BD], dtype=tl.float32)
        for k0 in range(0, T, BT):
            offs_k = k0 + tl.arange(0, BT)
            t = T - 1 - offs_k
            valid = (offs_k[:, None] < T) & mask_d[None, :]
            ptr = base + t[:, None] * D + offs_d[None, :]
            gh = tl.load(GH_ptr + ptr, mask=valid, other=0.0).to(tl.float32)
            f_next = tl.load(F_ptr + ptr + D, mask=valid & (t[:, None] + 1 < T),
                             other=0.0).to(tl.float32)
            a, b = tl.associative_scan((f_next, gh), 0, _affine_combine)
            g = a * carry[None, :] + b
            tl.store(GI_ptr + ptr, g, mask=valid)
            h_prev = tl.load(H_ptr + ptr - D, mask=valid & (t[:, None] >= 1),
                             other=0.0).to(tl.float32)
            tl.store(GF_ptr + ptr, g * h_prev, mask=valid)
            carry = tl.sum(tl.where(offs_k[:, None] == k0 + BT - 1, g, 0.0), axis=0)

    _BT, _BD = 64, 32

    class TritonScan(torch.autograd.Function):
        @staticmethod
        def forward(ctx, f, i):
            f = f.float().contiguous()
            i = i.float().contiguous()
            B, T, D = i.shape
            h = torch.empty_like(i)
            _scan_fwd_kernel[(B, triton.cdiv(D, _BD))](f, i, h, T, D, BT=_BT, BD=_BD)
            ctx.save_for_backward(f, h)
            return h

        @staticmethod
        def backward(ctx, gh):
            f, h = ctx.saved_tensors
            gh = gh.float().contiguous()
            B, T, D = h.shape
            gi = torch.empty_like(h)
            gf = torch.empty_like(h)
            _scan_bwd_kernel[(B, triton.cdiv(D, _BD))](f, h, gh, gi, gf, T, D, BT=_BT, BD=_BD)
            return gf, gi

USE_REFERENCE_SCAN = False


def scan(f, i):
    if triton is not None and f.is_cuda and not USE_REFERENCE_SCAN:
        return TritonScan.apply(f, i)
    return scan_reference(f.float(), i.float())


# ----------------------------------------------------------------------------------------
# Model: module tree mirrors the checkpoint's tensor names
# ----------------------------------------------------------------------------------------

class Norm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))


class BitLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_out, n_in))
        self.norm = Norm(n_in)


class Attn(nn.Module):
    def __init__(self, H, D):
        super().__init__()
        self.i_proj = BitLinear(H, D)
        self.f_proj = BitLinear(H, D)
        self.g_proj = BitLinear(H, D)
        self.g_norm = Norm(D)
        self.o_proj = BitLinear(D, H)


class MLP(nn.Module):
    def __init__(self, H, I):
        super().__init__()
        self.gate_proj = BitLinear(H, 2 * I)
        self.down_proj = BitLinear(I, H)


class Layer(nn.Module):
    def __init__(self, H, D, I):
        super().__init__()
        self.attn_norm = Norm(H)
        self.attn = Attn(H, D)
        self.mlp_norm = Norm(H)
        self.mlp = MLP(H, I)


class Inner(nn.Module):
    def __init__(self, V, H, D, I, L):
        super().__init__()
        self.embeddings = nn.Embedding(V, H)
        self.lower_bounds = nn.Parameter(torch.zeros(L, H))
        self.layers = nn.ModuleList(Layer(H, D, I) for _ in range(L))
        self.norm = Norm(H)


def mlgru_in(x, lb, attn_norm_w, wi, ni, wf, nf, wg, ng):
    u = rms_norm(x, attn_norm_w)
    ai = bit_linear(u, wi, ni)
    af = bit_linear(u, wf, nf)
    ag = bit_linear(u, wg, ng)
    f = torch.sigmoid(af)
    f = lb + (1.0 - lb) * f          # lb is exactly 0 for layer 0
    i = F.silu(ai) * (1.0 - f)
    return f, i, ag


def mlgru_out_mlp(x, h, ag, g_norm_w, wo, no, mlp_norm_w, wgate, ngate, wdown, ndown):
    z = rms_norm(ag, g_norm_w) * F.silu(h)
    s = x + bit_linear(z, wo, no)
    v = rms_norm(s, mlp_norm_w)
    y = bit_linear(v, wgate, ngate)
    gate, up = y.chunk(2, dim=-1)
    return s + bit_linear(F.silu(gate) * up, wdown, ndown)


def lm_head_loss(x, norm_w, wh, nh, targets):
    logits = bit_linear(rms_norm(x, norm_w), wh, nh)
    return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))


def lm_head_logits(x, norm_w, wh, nh):
    return bit_linear(rms_norm(x, norm_w), wh, nh)


class Fns:
    def __init__(self, compiled):
        c = (lambda fn: torch.compile(fn, dynamic=False)) if compiled else (lambda fn: fn)
        self.mlgru_in = c(mlgru_in)
        self.mlgru_out_mlp = c(mlgru_out_mlp)
        self.lm_head_loss = c(lm_head_loss)
        self.lm_head_logits = lm_head_logits


class HGRNBitForCausalLM(nn.Module):
    def __init__(self, vocab_size, hidden_size, num_hidden_layers, intermediate_size,
                 expand_ratio=1):
        super().__init__()
        H, D = hidden_size, hidden_size * expand_ratio
        self.cfg = dict(vocab_size=vocab_size, hidden_size=H, num_hidden_layers=num_hidden_layers,
                        intermediate_size=intermediate_size, expand_ratio=expand_ratio)
        self.model = Inner(vocab_size, H, D, intermediate_size, num_hidden_layers)
        self.lm_head = BitLinear(H, vocab_size)

    def init_weights(self, std=0.02):
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            elif name == "model.lower_bounds":
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, mean=0.0, std=std)

    def hidden(self, ids, fns):
        x = self.model.embeddings(ids).float()
        lb = lower_bound_table(self.model.lower_bounds)
        for l, layer in enumerate(self.model.layers):
            a, m = layer.attn, layer.mlp
            # clone: a fresh tensor per layer, so the compiled function is not re-specialised
            f, i, ag = fns.mlgru_in(x, lb[l].clone(), layer.attn_norm.weight,
                                    a.i_proj.weight, a.i_proj.norm.weight,
                                    a.f_proj.weight, a.f_proj.norm.weight,
                                    a.g_proj.weight, a.g_proj.norm.weight)
            h = scan(f, i)
            x = fns.mlgru_out_mlp(x, h, ag, a.g_norm.weight, a.o_proj.weight,
                                  a.o_proj.norm.weight, layer.mlp_norm.weight,
                                  m.gate_proj.weight, m.gate_proj.norm.weight,
                                  m.down_proj.weight, m.down_proj.norm.weight)
        return x

    def loss(self, ids, targets, fns):
        x = self.hidden(ids, fns)
        return fns.lm_head_loss(x, self.model.norm.weight, self.lm_head.weight,
                                self.lm_head.norm.weight, targets)

    def logits(self, ids, fns):
        x = self.hidden(ids, fns)
        return fns.lm_head_logits(x, self.model.norm.weight, self.lm_head.weight,
                                  self.lm_head.norm.weight)


EAGER = Fns(compiled=False)


def intermediate_from_config(cfg):
    I = cfg.get("intermediate_size")
    if I is None:
        H = cfg["hidden_size"]
        I = 256 * math.ceil(int(H * cfg.get("hidden_ratio", 4) * 2 / 3) / 256)
    return I


# ----------------------------------------------------------------------------------------
# Checks (run with --checks on the GPU machine)
# ----------------------------------------------------------------------------------------

def run_checks(golden_dir, dev):
    from safetensors.torch import load_file
    global USE_REFERENCE_SCAN
    ok = True
    torch.manual_seed(0)
    if dev.type == "cuda" and triton is not None:
        for (B, T, D) in [(3, 200, 96), (2, 1024, 512)]:
            f = torch.rand(B, T, D, device=dev).mul(0.98).add(0.01).requires_grad_()
            i = torch.randn(B, T, D, device=dev).requires_grad_()
            gh = torch.randn(B, T, D, device=dev)
            h1 = TritonScan.apply(f, i)
            g1 = torch.autograd.grad(h1, (f, i), gh)
            h2 = scan_reference(f, i)
            g2 = torch.autograd.grad(h2, (f, i), gh)
            errs = [(h1 - h2).abs().max().item()] + [(a - b).abs().max().item()
                                                      for a, b in zip(g1, g2)]
            good = all(e < 1e-3 for e in errs)
            ok &= good
            print(f"scan check {B}x{T}x{D}: max err h {errs[0]:.2e} df {errs[1]:.2e} "
                  f"di {errs[2]:.2e} {'OK' if good else 'FAIL'}")
    for case in sorted(os.listdir(golden_dir)):
        d = os.path.join(golden_dir, case)
        cfg = json.load(open(os.path.join(d, "config.json")))
        model = HGRNBitForCausalLM(cfg["vocab_size"], cfg["hidden_size"],
                                   cfg["num_hidden_layers"], intermediate_from_config(cfg),
                                   cfg.get("expand_ratio", 1))
        sd = {k: v.float() for k, v in load_file(os.path.join(d, "model.safetensors")).items()}
        missing, unexpected = model.load_state_dict(sd, strict=False)
        exp = load_file(os.path.join(d, "expected.safetensors"))
        model.to(dev)
        prompt = exp["prompt"].long().to(dev)[None]
        full = torch.cat([prompt, exp["greedy_tokens"].long().to(dev)[None]], 1)
        for ref_scan in ([False, True] if dev.type == "cuda" else [True]):
            USE_REFERENCE_SCAN = ref_scan
            with torch.no_grad():
                lg = model.logits(prompt, EAGER)[0].cpu()
                lf = model.logits(full, EAGER)[0].cpu()
            for name, got, ref in [("prefill", lg, exp["prefill_logits"]),
                                   ("full", lf, exp["full_logits"])]:
                rel = ((got - ref).norm() / ref.norm()).item()
                agree = (got.argmax(-1) == ref.argmax(-1)).float().mean().item()
                good = rel <= 2e-2 and agree >= 0.95 and not missing and not unexpected
                ok &= good
                print(f"golden {case} {name} ({'reference' if ref_scan else 'triton'} scan): "
                      f"rel L2 {rel:.2e} argmax agree {agree:.3f} "
                      f"{'OK' if good else 'FAIL'} {missing or ''}{unexpected or ''}")
        USE_REFERENCE_SCAN = False
    print("CHECKS", "PASSED" if ok else "FAILED")
    return ok


# ----------------------------------------------------------------------------------------
# Data, evaluation, sampling, export
# ----------------------------------------------------------------------------------------

def load_tokens(path):
    if os.path.exists(path):
        return np.fromfile(path, dtype=np.uint16)
    import gzip
    with gzip.open(path + ".gz", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint16)


def train_batch(tokens, step, batch, seq, seed, dev):
    """Batch of `step`: random windows of the training stream, each read after a BOS."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    offs = torch.randint(0, tokens.numel() - seq, (batch,), generator=g).to(dev)
    tgt = tokens[offs[:, None] + torch.arange(seq, device=dev)[None, :]]
    inp = torch.cat([torch.full((batch, 1), BOS_ID, device=dev, dtype=tgt.dtype),
                     tgt[:, :-1]], 1)
    return inp, tgt


def eval_windows(ids, seq):
    """(input, target) pairs of the held-out protocol for one book (see module docstring)."""
    out = []
    for s in range(0, len(ids), seq):
        chunk = ids[s:s + seq]
        out.append(([BOS_ID] + chunk[:-1], chunk))
    return out


@torch.no_grad()
def evaluate(model, held_ids, held_meta, seq, dev, max_windows=None, batch=64):
    """Exact fp32 evaluation. Returns {book: (nll_sum, tokens)} and the totals."""
    res = {}
    for bk in held_meta:
        ids = held_ids[bk["offset"]:bk["offset"] + bk["tokens"]].tolist()
        wins = eval_windows(ids, seq)
        if max_windows is not None:
            wins = wins[:max_windows]
        nll, n = 0.0, 0
        # group windows of equal length (all but possibly the last)
        by_len = {}
        for w in wins:
            by_len.setdefault(len(w[1]), []).append(w)
        for L_, group in by_len.items():
            for j in range(0, len(group), batch):
                part = group[j:j + batch]
                inp = torch.tensor([w[0] for w in part], device=dev)
                tgt = torch.tensor([w[1] for w in part], device=dev)
                lg = model.logits(inp, EAGER)
                nll += F.cross_entropy(lg.reshape(-1, lg.shape[-1]), tgt.reshape(-1),
                                       reduction="sum").item()
                n += tgt.numel()
        res[bk["book"]] = (nll, n)
    tot_nll = sum(v[0] for v in res.values())
    tot_n = sum(v[1] for v in res.values())
    return res, tot_nll, tot_n


@torch.no_grad()
def generate(model, sp, prompt, n_new, dev, temperature=0.0, top_k=0, seed=0):
    ids = [BOS_ID] + sp.encode(prompt)
    g = torch.Generator(device=dev).manual_seed(seed)
    new = []
    for _ in range(n_new):
        lg = model.logits(torch.tensor([ids + new], device=dev), EAGER)[0, -1]
        if temperature <= 0:
            nxt = int(lg.argmax())
        else:
            lg = lg / temperature
            if top_k:
                kth = torch.topk(lg, top_k).values[-1]
                lg = torch.where(lg < kth, torch.full_like(lg, -float("inf")), lg)
            nxt = int(torch.multinomial(torch.softmax(lg, -1), 1, generator=g))
        if nxt == EOS_ID:
            break
        new.append(nxt)
    return prompt + sp.decode(new)


def bf16_rounded_copy(model):
    m2 = HGRNBitForCausalLM(**model.cfg).to(next(model.parameters()).device)
    sd = {k: v.detach().to(torch.bfloat16).float() for k, v in model.state_dict().items()}
    m2.load_state_dict(sd)
    return m2


def export_hf(model, out_dir, tokenizer_path, shard_bytes=15 * 2**20):
    from safetensors.torch import save_file
    os.makedirs(out_dir, exist_ok=True)
    for fn in os.listdir(out_dir):
        if fn.startswith("model"):
            os.remove(os.path.join(out_dir, fn))
    sd = {k: v.detach().to(torch.bfloat16).contiguous().cpu()
          for k, v in model.state_dict().items()}
    shards, cur, cur_bytes = [], {}, 0
    for k, v in sd.items():
        nb = v.numel() * 2
        if cur and cur_bytes + nb > shard_bytes:
            shards.append(cur)
            cur, cur_bytes = {}, 0
        cur[k] = v
        cur_bytes += nb
    shards.append(cur)
    total = sum(v.numel() * 2 for v in sd.values())
    if len(shards) == 1:
        save_file(shards[0], os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    else:
        wmap = {}
        for j, sh in enumerate(shards):
            fn = f"model-{j + 1:05d}-of-{len(shards):05d}.safetensors"
            save_file(sh, os.path.join(out_dir, fn), metadata={"format": "pt"})
            wmap.update({k: fn for k in sh})
        with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": wmap}, f, indent=2)
    c = model.cfg
    config = {
        "architectures": ["HGRNBitForCausalLM"],
        "model_type": "hgrn_bit",
        "attn_mode": "fused_recurrent",
        "vocab_size": c["vocab_size"],
        "hidden_size": c["hidden_size"],
        "num_hidden_layers": c["num_hidden_layers"],
        "intermediate_size": c["intermediate_size"],
        "hidden_ratio": 4,
        "expand_ratio": c["expand_ratio"],
        "num_heads": 1,
        "use_short_conv": False,
        "conv_size": 4,
        "share_conv_kernel": True,
        "use_lower_bound": True,
        "hidden_act": "swish",
        "max_position_embeddings": 2048,
        "rms_norm_eps": EPS,
        "initializer_range": 0.02,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID,
        "pad_token_id": None,
        "tie_word_embeddings": False,
        "use_cache": True,
        "fuse_cross_entropy": True,
        "torch_dtype": "bfloat16",
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.model"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>",
                   "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None,
                   "clean_up_tokenization_spaces": False, "legacy": True,
                   "sp_model_kwargs": {}, "tokenizer_class": "LlamaTokenizer",
                   "model_max_length": 1000000}, f, indent=2)
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, f, indent=2)
    return total // 2


def write_curve(history, out_dir):
    keys = ["step", "tokens", "train_loss", "lr", "val_loss", "elapsed_s"]
    with open(os.path.join(out_dir, "loss.csv"), "w") as f:
        f.write(",".join(keys) + "\n")
        for r in history:
            f.write(",".join("" if r.get(k) is None else
                             (f"{r[k]:.6g}" if isinstance(r[k], float) else str(r[k]))
                             for k in keys) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    tr = [(r["tokens"] / 1e6, r["train_loss"]) for r in history if r.get("train_loss")]
    va = [(r["tokens"] / 1e6, r["val_loss"]) for r in history if r.get("val_loss")]
    if tr:
        ax.plot(*zip(*tr), label="train (bf16 autocast, STE)", lw=1)
    if va:
        ax.plot(*zip(*va), "o-", label="held-out subset (fp32 exact)", ms=3)
    ax.set_xlabel("tokens seen (M)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_ylim(top=min(6.0, ax.get_ylim()[1]))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "loss.png"), dpi=110)


# ----------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------

def lr_at(step, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    p = min(1.0, (step - a.warmup) / max(1, a.steps - a.warmup))
    return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=".traindata", help="output folder of prepare_data.py")
    ap.add_argument("--out", default="tools/train/out")
    ap.add_argument("--ckpt", default="/tmp/mmfree_train/ckpt.pt")
    ap.add_argument("--checks", action="store_true", help="scan + golden checks, then exit")
    ap.add_argument("--golden", default=None, help="folder of golden cases (for --checks)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=7)
    ap.add_argument("--intermediate", type=int, default=1280)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--lr", type=float, default=2.5e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--time-budget", type=float, default=float("inf"),
                    help="stop training after this many seconds from start, save, export")
    ap.add_argument("--stop-at-step", type=int, default=None)
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    for knob in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, knob):
            setattr(torch._dynamo.config, knob, 64)
    print(f"torch {torch.__version__} device {dev} "
          f"{torch.cuda.get_device_name() if dev.type == 'cuda' else ''}", flush=True)

    if a.checks:
        sys.exit(0 if run_checks(a.golden, dev) else 1)

    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(a.data, "tokenizer.model"))
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    V = sp.get_piece_size()
    train_np = load_tokens(os.path.join(a.data, "train.bin"))
    held_np = np.fromfile(os.path.join(a.data, "heldout.bin"), dtype=np.uint16).astype(np.int64)
    tokens = torch.from_numpy(train_np.astype(np.int64)).to(dev)
    print(f"train tokens {tokens.numel():,}  held-out tokens {held_np.size:,}  vocab {V}",
          flush=True)

    torch.manual_seed(a.seed)
    model = HGRNBitForCausalLM(V, a.hidden, a.layers, a.intermediate)
    model.init_weights()
    model.to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: V={V} H={a.hidden} L={a.layers} I={a.intermediate} params {n_params:,}",
          flush=True)

    decay = [p for n, p in model.named_parameters()
             if p.dim() == 2 and n not in ("model.embeddings.weight", "model.lower_bounds")]
    no_decay = [p for n, p in model.named_parameters()
                if not (p.dim() == 2 and n not in ("model.embeddings.weight",
                                                    "model.lower_bounds"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8,
                            fused=dev.type == "cuda")

    step, history, train_seconds = 0, [], 0.0
    # Early-stopping safety net: the weights with the lowest held-out-subset loss seen at an
    # evaluation are the ones exported (with a cosine schedule that is normally the last one).
    best = {"val": float("inf"), "step": None, "state": None}
    if os.path.exists(a.ckpt):
        ck = torch.load(a.ckpt, map_location=dev, weights_only=False)
        if ck["args"]["steps"] != a.steps or ck["args"]["seed"] != a.seed:
            sys.exit("checkpoint was made with other --steps/--seed; remove it or match them")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, history, train_seconds = ck["step"], ck["history"], ck["train_seconds"]
        best = ck["best"]
        print(f"resumed from {a.ckpt} at step {step}", flush=True)

    fns = Fns(compiled=(dev.type == "cuda" and not a.no_compile))
    tokens_per_step = a.batch * a.seq
    stop_at = min(a.steps, a.stop_at_step or a.steps)
    model.train()
    t_seg = time.time()
    t_last, loss_acc, n_acc = time.time(), 0.0, 0
    seg_start_step = step
    while step < stop_at:
        if time.time() - T_START > a.time_budget:
            print(f"time budget reached at step {step}", flush=True)
            break
        lr = lr_at(step, a)
        for gr in opt.param_groups:
            gr["lr"] = lr
        inp, tgt = train_batch(tokens, step, a.batch, a.seq, a.seed, dev)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16,
                            enabled=dev.type == "cuda"):
            loss = model.loss(inp, tgt, fns)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        step += 1
        loss_acc += loss.detach()
        n_acc += 1
        if step % a.log_every == 0 or step == stop_at:
            tl_ = (loss_acc / n_acc).item()
            now = time.time()
            train_seconds += now - t_last
            tok_s = n_acc * tokens_per_step / (now - t_last)
            t_last, loss_acc, n_acc = now, 0.0, 0
            row = {"step": step, "tokens": step * tokens_per_step, "train_loss": tl_,
                   "lr": lr, "elapsed_s": round(train_seconds, 1)}
            if not math.isfinite(tl_):
                sys.exit(f"loss is {tl_} at step {step}")
            if step % a.eval_every == 0 or step == a.steps:
                model.eval()
                _, vn, vc = evaluate(model, held_np, meta["heldout"], a.seq, dev, max_windows=12)
                model.train()
                row["val_loss"] = vn / vc
                if row["val_loss"] < best["val"]:
                    best = {"val": row["val_loss"], "step": step,
                            "state": {k: v.detach().clone()
                                      for k, v in model.state_dict().items()}}
                t_last = time.time()
            history.append(row)
            print(f"step {step}/{a.steps} loss {tl_:.4f} lr {lr:.2e} {tok_s / 1e3:.0f}k tok/s"
                  + (f" val {row['val_loss']:.4f}" if "val_loss" in row else "")
                  + f" t {time.time() - T_START:.0f}s", flush=True)

    os.makedirs(os.path.dirname(a.ckpt), exist_ok=True)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "history": history, "train_seconds": train_seconds, "best": best,
                "args": vars(a)}, a.ckpt)
    print(f"saved {a.ckpt} at step {step} ({time.time() - T_START:.0f}s)", flush=True)
    if dev.type == "cuda":
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")

    # Evaluation on the exported (bf16-rounded) weights, exact fp32 math.
    model.eval()
    export_step = step
    if best["state"] is not None and best["step"] != step:
        last_val = next((r["val_loss"] for r in reversed(history) if "val_loss" in r), None)
        if last_val is None or best["val"] < last_val:
            print(f"exporting the weights of step {best['step']} (held-out subset loss "
                  f"{best['val']:.4f}) rather than step {step}", flush=True)
            model.load_state_dict(best["state"])
            export_step = best["step"]
    em = bf16_rounded_copy(model)
    em.eval()
    res, tn, tc = evaluate(em, held_np, meta["heldout"], a.seq, dev)
    bytes_total = sum(b["bytes"] for b in meta["heldout"])
    ev = {"finished": step >= a.steps, "step": step, "exported_step": export_step,
          "steps": a.steps,
          "tokens_seen": step * tokens_per_step, "train_seconds": round(train_seconds, 1),
          "params": n_params, "window": a.seq,
          "protocol": "per book: ids=sp.encode(text); chunks of --seq tokens; input [BOS]+"
                      "chunk[:-1], every chunk token predicted; ppl=exp(sum NLL/sum tokens)",
          "heldout_ppl": math.exp(tn / tc), "heldout_nll": tn / tc, "heldout_tokens": tc,
          "heldout_bits_per_byte": tn / math.log(2) / bytes_total,
          "per_book": {k: {"ppl": math.exp(v[0] / v[1]), "tokens": v[1]}
                       for k, v in res.items()},
          "final_train_loss": next((r["train_loss"] for r in reversed(history)), None)}
    print(json.dumps(ev, indent=1), flush=True)

    os.makedirs(a.out, exist_ok=True)
    hf = os.path.join(a.out, "demo-hf")
    export_hf(model, hf, os.path.join(a.data, "tokenizer.model"))
    with open(os.path.join(a.out, "eval.json"), "w") as f:
        json.dump(ev, f, indent=1)
    write_curve(history, a.out)

    prompts = ["It was a dark and stormy night", "Once upon a time, there was a little girl",
               "The old man looked at the sea and said"]
    lines = []
    for j, p in enumerate(prompts):
        lines.append(f"### greedy: {p}\n{generate(em, sp, p, 80, dev)}\n")
        lines.append(f"### temperature 0.7, top-k 40, seed {j}: {p}\n"
                     f"{generate(em, sp, p, 80, dev, 0.7, 40, seed=j)}\n")
    with open(os.path.join(a.out, "samples.txt"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    print(f"done ({time.time() - T_START:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
