#!/usr/bin/env python3
"""Reference values for `llamba eval` on the default model, SmolLM2-135M-Instruct, from transformers.

transformers `LlamaForCausalLM` loads the same GGUF (dequantized to fp32, eager attention, fp32 on the CPU) and
transformers' GGUF tokenizer gives the ids; the scoring rules are written out here from their definitions
(llama.cpp's perplexity tool; lm-evaluation-harness for LAMBADA and BLiMP) so the C++ side is checked against an
independent implementation:
  perplexity: the first 4,000 characters of WikiText-2 test, ctx 128: tokens of the whole text (no BOS: the GGUF's
    tokenizer.ggml.add_bos_token is false), chunks of 128, positions 64..126 scored; per chunk the summed NLL.
  lambada: the first 12 passages; context = text before the last space; per passage the target's summed
    log-probability, its token count and whether every target token is the argmax.
  blimp: the first 4 pairs of 3 paradigms; each sentence after the BOS id (<|im_start|>, lm-eval's prefix token)
    scored whole; per sentence the summed log-probability.
Writes tests/fixtures/eval/smollm2_reference.json (inputs, token ids and values).
Usage: /opt/refenv/bin/python tools/reference/make_eval_fixtures.py models/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import json
import lzma
import os
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

OUT = "tests/fixtures/eval/smollm2_reference.json"
CTX = 128
BLIMP = ["anaphor_gender_agreement", "determiner_noun_agreement_irregular_1", "wh_island"]


def log_probs(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    return torch.log_softmax(logits, dim=-1), logits.argmax(dim=-1)


def main():
    gguf_path = os.path.abspath(sys.argv[1])
    d, name = os.path.split(gguf_path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, torch_dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    enc = lambda s: tok(s, add_special_tokens=False).input_ids
    fx = {"fixture_format": "1", "generator": "tools/reference/make_eval_fixtures.py", "model": name,
          "torch": torch.__version__, "transformers": transformers.__version__, "ctx": CTX}

    text = lzma.open("data/corpus/wikitext2_test.txt.xz", "rt", encoding="utf-8").read()[:4000]
    ids = enc(text[:-1] if text.endswith("\n") else text)  # llama.cpp drops one trailing newline
    chunks = []
    for c in range(len(ids) // CTX):
        chunk = ids[c * CTX:(c + 1) * CTX]
        lp, _ = log_probs(model, chunk)
        nll = [-float(lp[p, chunk[p + 1]]) for p in range(CTX // 2, CTX - 1)]
        chunks.append(sum(nll))
    count = len(chunks) * (CTX - CTX // 2 - 1)
    fx["perplexity"] = {"text": text, "ids": ids, "chunk_nll": chunks,
                        "ppl": float(np.exp(sum(chunks) / count))}

    lines = lzma.open("data/eval/lambada/lambada_test.jsonl.xz", "rt", encoding="utf-8").read().splitlines()[:12]
    lam = []
    for line in lines:
        t = json.loads(line)["text"]
        context = t[:t.rfind(" ")]
        whole, ctx = enc(t), enc(context)
        seq = ctx + whole[len(ctx):]
        lp, am = log_probs(model, seq)
        tgt = range(len(ctx), len(seq))
        lam.append({"text": t, "ids": seq, "n_target": len(seq) - len(ctx),
                    "logprob": sum(float(lp[p - 1, seq[p]]) for p in tgt),
                    "greedy": all(int(am[p - 1]) == seq[p] for p in tgt)})
    fx["lambada"] = lam

    bos = tok.convert_tokens_to_ids("<|im_start|>")
    pairs = []
    for uid in BLIMP:
        rows = lzma.open(f"data/eval/blimp/{uid}.jsonl.xz", "rt", encoding="utf-8").read().splitlines()[:4]
        for line in rows:
            j = json.loads(line)
            entry = {"uid": uid}
            for key in ("sentence_good", "sentence_bad"):
                seq = [bos] + enc(j[key])
                lp, _ = log_probs(model, seq)
                entry[key] = j[key]
                entry[key + "_ids"] = seq
                entry[key + "_logprob"] = sum(float(lp[p - 1, seq[p]]) for p in range(1, len(seq)))
            pairs.append(entry)
    fx["blimp"] = pairs
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fx, f, indent=1)
    print(OUT, os.path.getsize(OUT), "bytes;", len(chunks), "chunks, ppl", fx["perplexity"]["ppl"])


if __name__ == "__main__":
    main()
