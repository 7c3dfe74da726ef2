#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prepare the training data of the MMfree Studio demo model (runs on the CPU, no GPU).

Steps, all deterministic:
  1. unpack english-19c.tar.xz and normalise every book to one paragraph per line
     (see normalise_book: hard wraps are undone, whitespace runs become one space);
  2. hold out whole books (HELDOUT) for evaluation;
  3. train a SentencePiece BPE tokenizer on the training books with Debian's `spm_train`;
  4. encode every book with that tokenizer (Python `sentencepiece`, same library) and write
     uint16 token files for train.py.

Usage:  python3 tools/train/prepare_data.py [--corpus PATH.tar.xz] [--out .traindata]
        python3 tools/train/prepare_data.py --heldout-text-only --out DIR   # eval texts only
Needs: spm_train (Debian package `sentencepiece`), python3 with numpy and sentencepiece
(Debian packages python3-numpy, python3-sentencepiece).

Outputs in --out:
  tokenizer.model / tokenizer.vocab   the tokenizer (also copied into the exported model)
  train.bin     uint16 ids: every training book encoded without BOS, followed by EOS (2),
                books concatenated in sorted path order
  heldout.bin   uint16 ids: every held-out book encoded without BOS/EOS, concatenated
  heldout/NAME.txt  the normalised text of each held-out book, exactly what is encoded;
                these are the files `mmfree perplexity` must read
  meta.json     book lists, token counts, offsets of each held-out book inside heldout.bin
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Whole books kept out of training (one per sub-collection of the corpus).
HELDOUT = [
    "19C/Jekyll.txt",        # Stevenson, Strange Case of Dr Jekyll and Mr Hyde
    "ArTs/timemachine.txt",  # Wells, The Time Machine
    "AAW/sport.txt",         # Dunbar, The Sport of the Gods
    "ChiLit/willows.txt",    # Grahame, The Wind in the Willows
    "DNov/HT.txt",           # Dickens, Hard Times
]

VOCAB_SIZE = 8000
BOS_ID, EOS_ID = 1, 2


def normalise_book(raw: str) -> str:
    """Book text -> one paragraph per line, lines joined by '\n', ending with '\n'.

    Removes a UTF-8 BOM, turns CRLF/CR into LF, splits into paragraphs at blank lines, joins
    the lines of a paragraph with single spaces and collapses every whitespace run (tabs,
    non-breaking spaces stay as they are: only ' ', '\t' and line breaks count) to one space.
    """
    text = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", text):
        words = re.split(r"[ \t\n]+", block.strip(" \t\n"))
        para = " ".join(w for w in words if w)
        if para:
            paragraphs.append(para)
    return "\n".join(paragraphs) + "\n"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(REPO), "shared", "corpus",
                                                      "english-19c.tar.xz"))
    ap.add_argument("--out", default=os.path.join(REPO, ".traindata"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--heldout-text-only", action="store_true",
                    help="only write heldout/NAME.txt (standard library only, seconds)")
    args = ap.parse_args()

    os.makedirs(os.path.join(args.out, "heldout"), exist_ok=True)

    books = {}
    with tarfile.open(args.corpus, "r:xz") as tar:
        for m in tar.getmembers():
            if m.isfile() and m.name.endswith(".txt"):
                rel = m.name.split("english-19c/", 1)[1]
                books[rel] = normalise_book(tar.extractfile(m).read().decode("utf-8"))
    missing = [b for b in HELDOUT if b not in books]
    if missing:
        sys.exit(f"held-out books not in the corpus: {missing}")
    train_names = sorted(b for b in books if b not in HELDOUT)
    print(f"{len(books)} books: {len(train_names)} for training, {len(HELDOUT)} held out")
    for name in HELDOUT:
        with open(os.path.join(args.out, "heldout", name.replace("/", "_")), "w",
                  encoding="utf-8", newline="\n") as f:
            f.write(books[name])
    if args.heldout_text_only:
        return

    import numpy as np
    import sentencepiece as spm

    # Tokenizer input: one paragraph per line, training books only, in sorted order.
    spm_input = os.path.join(args.out, "spm_input.txt")
    with open(spm_input, "w", encoding="utf-8") as f:
        for name in train_names:
            f.write(books[name])
    prefix = os.path.join(args.out, "tokenizer")
    # Same conventions as the Llama / Mistral tokenizers that HGRNBit checkpoints use:
    # BPE, byte fallback (so '\n' and rare characters become <0x..> byte pieces), identity
    # normalisation, a dummy prefix space, digits split, no pad piece.
    cmd = [
        "spm_train",
        f"--input={spm_input}",
        f"--model_prefix={prefix}",
        "--model_type=bpe",
        f"--vocab_size={VOCAB_SIZE}",
        "--character_coverage=0.99995",
        "--byte_fallback=true",
        "--split_digits=true",
        "--allow_whitespace_only_pieces=true",
        "--normalization_rule_name=identity",
        "--remove_extra_whitespaces=false",
        "--add_dummy_prefix=true",
        "--max_sentence_length=65536",
        "--input_sentence_size=0",          # use every paragraph: no random sampling
        "--shuffle_input_sentence=false",
        "--unk_id=0", f"--bos_id={BOS_ID}", f"--eos_id={EOS_ID}", "--pad_id=-1",
        f"--num_threads={args.threads}",
        "--minloglevel=1",
    ]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    os.remove(spm_input)

    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    assert sp.get_piece_size() == VOCAB_SIZE
    assert (sp.unk_id(), sp.bos_id(), sp.eos_id(), sp.pad_id()) == (0, BOS_ID, EOS_ID, -1)

    train_ids, train_counts = [], {}
    for name in train_names:
        ids = sp.encode(books[name])
        train_counts[name] = len(ids)
        train_ids.extend(ids)
        train_ids.append(EOS_ID)
    train = np.asarray(train_ids, dtype=np.uint16)
    train.tofile(os.path.join(args.out, "train.bin"))

    held_ids, held_meta, off = [], [], 0
    for name in HELDOUT:
        text = books[name]
        fname = name.replace("/", "_")
        ids = sp.encode(text)
        held_meta.append({"book": name, "file": "heldout/" + fname, "offset": off,
                          "tokens": len(ids), "bytes": len(text.encode("utf-8"))})
        held_ids.extend(ids)
        off += len(ids)
    np.asarray(held_ids, dtype=np.uint16).tofile(os.path.join(args.out, "heldout.bin"))

    meta = {
        "vocab_size": VOCAB_SIZE, "bos_id": BOS_ID, "eos_id": EOS_ID,
        "tokenizer_sha256": sha256(prefix + ".model"),
        "corpus_sha256": sha256(args.corpus),
        "train_books": train_names, "train_tokens": int(train.size),
        "train_chars": sum(len(books[n]) for n in train_names),
        "heldout": held_meta, "heldout_tokens": off,
    }
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"train tokens {train.size:,} (incl. one EOS per book), held-out tokens {off:,}")
    print(f"chars/token {meta['train_chars'] / train.size:.3f}")


if __name__ == "__main__":
    main()
