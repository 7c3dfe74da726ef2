#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Held-out perplexity of an HGRNBit HF folder, in plain numpy (no PyTorch), on the CPU.

An independent second implementation of MODEL_SPEC.md and of train.py's evaluation protocol,
for checking `mmfree perplexity` and train.py against each other:

  ids = SentencePiece(whole text file)   # no BOS, no EOS
  chunks of --window tokens (the last one shorter); for each chunk the state starts at zero,
  the model reads [BOS] + chunk[:-1] and every chunk token is predicted once;
  ppl = exp(sum NLL / number of predicted tokens).

Usage: python3 tools/train/check_ppl_numpy.py HF_DIR TEXT_FILE [--window 1024] [--max-chunks N]
Needs numpy and sentencepiece (Debian: python3-numpy, python3-sentencepiece).
"""
import argparse
import json
import math
import os
import struct

import numpy as np


def load_safetensors(path):
    out = {}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype=np.float32)
        elif info["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
        else:
            raise ValueError(f"{name}: dtype {info['dtype']}")
        out[name] = arr.reshape(info["shape"]).copy()
    return out


def load_model(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        w = {}
        for fn in sorted(set(json.load(open(idx))["weight_map"].values())):
            w.update(load_safetensors(os.path.join(d, fn)))
    else:
        w = load_safetensors(os.path.join(d, "model.safetensors"))
    return json.load(open(os.path.join(d, "config.json"))), w


def rms(x, g, eps=1e-6):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


class Bit:
    """A BitLinear: ternary weights T and scale m quantised once, int8 activations per row."""

    def __init__(self, w, g):
        self.m = np.float32(max(np.abs(w).mean(dtype=np.float64), 1e-5))
        self.t = np.clip(np.round(w / self.m), -1, 1).astype(np.float32).T.copy()
        self.g = g

    def __call__(self, x):
        y = rms(x, self.g)
        s = np.float32(127.0) / np.maximum(np.abs(y).max(-1, keepdims=True), np.float32(1e-5))
        v = y * s
        q = np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5), -128, 127)
        return (q @ self.t) * self.m / s       # integer sums: exact in fp32


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forward(cfg, w, layers, head, ids):
    """Logits [T, V] of one sequence (state zero at its start)."""
    L = cfg["num_hidden_layers"]
    x = w["model.embeddings.weight"][ids]
    lbw = w["model.lower_bounds"].astype(np.float64)
    p = np.exp(lbw - lbw.max(0)) / np.exp(lbw - lbw.max(0)).sum(0)
    lb = (np.cumsum(p, 0) - p[0]).astype(np.float32)
    for l in range(L):
        P = f"model.layers.{l}."
        ip, fp, gp, op, gate, down = layers[l]
        u = rms(x, w[P + "attn_norm.weight"])
        f = sigmoid(fp(u))
        if l > 0:
            f = lb[l] + (1 - lb[l]) * f
        i = silu(ip(u)) * (1 - f)
        h = np.empty_like(i)
        state = np.zeros(i.shape[1], np.float32)
        for t in range(i.shape[0]):
            state = f[t] * state + i[t]
            h[t] = state
        z = rms(gp(u), w[P + "attn.g_norm.weight"]) * silu(h)
        s = x + op(z)
        y = gate(rms(s, w[P + "mlp_norm.weight"]))
        I = y.shape[-1] // 2
        x = s + down(silu(y[:, :I]) * y[:, I:])
    return head(rms(x, w["model.norm.weight"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hf_dir")
    ap.add_argument("text")
    ap.add_argument("--window", type=int, default=1024)
    ap.add_argument("--max-chunks", type=int, default=None)
    a = ap.parse_args()
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=os.path.join(a.hf_dir, "tokenizer.model"))
    cfg, w = load_model(a.hf_dir)
    bos = cfg["bos_token_id"]
    layers = []
    for l in range(cfg["num_hidden_layers"]):
        P = f"model.layers.{l}."
        layers.append([Bit(w[P + n + ".weight"], w[P + n + ".norm.weight"]) for n in
                       ("attn.i_proj", "attn.f_proj", "attn.g_proj", "attn.o_proj",
                        "mlp.gate_proj", "mlp.down_proj")])
    head = Bit(w["lm_head.weight"], w["lm_head.norm.weight"])
    ids = sp.encode(open(a.text, encoding="utf-8").read())
    nll, n = 0.0, 0
    for c, s in enumerate(range(0, len(ids), a.window)):
        if a.max_chunks is not None and c >= a.max_chunks:
            break
        chunk = ids[s:s + a.window]
        logits = forward(cfg, w, layers, head, np.array([bos] + chunk[:-1])).astype(np.float64)
        mx = logits.max(-1, keepdims=True)
        lse = (mx + np.log(np.exp(logits - mx).sum(-1, keepdims=True)))[:, 0]
        nll += float((lse - logits[np.arange(len(chunk)), chunk]).sum())
        n += len(chunk)
    print(f"{a.text}: {len(ids)} tokens, {n} predicted, mean NLL {nll / n:.5f}, "
          f"ppl {math.exp(nll / n):.4f}")


if __name__ == "__main__":
    main()
