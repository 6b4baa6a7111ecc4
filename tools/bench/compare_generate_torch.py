#!/usr/bin/env python3
"""Greedy decode speed of llamba next to transformers (PyTorch, CPU) on the same GGUF, in one run, for
docs/benchmarks.md.

Both decode TOKENS tokens after a short prompt, one token per step with their caches (llamba's KV cache; transformers'
past_key_values), at 1 and 2 threads. Decode streams every weight once per token, so each row also gives the weight
bytes per token, the achieved weight bandwidth and its share of the machine's read bandwidth (the roofline,
measured by build/bin/bench_linear's BM_read_bandwidth in the same run). llamba reads the GGUF's quantized blocks
(Q4_1, and Q8_0 for the tied head); transformers dequantizes the GGUF to fp32 when it loads it.

Usage: /opt/refenv/bin/python tools/bench/compare_generate_torch.py [--model GGUF] [--tokens N]
Requirements: PyTorch, transformers, gguf (tools/reference/requirements.txt); build/bin/llamba and bench_linear.
"""
import argparse
import json
import os
import re
import subprocess
import time

import torch
import transformers

transformers.utils.logging.disable_progress_bar()
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROMPT = "Once upon a time"


def roofline(bench, threads):
    out = subprocess.run([bench, "--benchmark_filter=read_bandwidth", "--benchmark_min_time=0.5",
                          "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)["benchmarks"]
    return {t: max(r["bytes/s"] for r in rows if r["name"].startswith(f"BM_read_bandwidth/{t}/")) for t in threads}


def llamba_decode(binary, model, tokens, threads, repeats=3):
    best = 0.0
    for _ in range(repeats):
        err = subprocess.run([binary, "run", "-m", model, "-p", PROMPT, "-n", str(tokens), "--temp", "0",
                              "-t", str(threads)], check=True, capture_output=True, text=True).stderr
        m = re.search(r"generated (\d+) tokens in ([0-9.]+) s", err)
        best = max(best, int(m.group(1)) / float(m.group(2)))
    return best


def weight_bytes_gguf(model):
    import gguf
    return sum(int(t.n_bytes) for t in gguf.GGUFReader(model).tensors)


def torch_decode(model_path, tokens, threads, repeats=2):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(threads)
    d, f = os.path.dirname(os.path.abspath(model_path)), os.path.basename(model_path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    lm = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, torch_dtype=torch.float32).eval()
    ids = tok(PROMPT, return_tensors="pt").input_ids
    best = 0.0
    with torch.inference_mode():
        for _ in range(repeats):
            out = lm(ids, use_cache=True)
            past, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
            t0 = time.perf_counter()
            for _ in range(tokens):
                out = lm(nxt, past_key_values=past, use_cache=True)
                past, nxt = out.past_key_values, out.logits[:, -1:].argmax(-1)
            best = max(best, tokens / (time.perf_counter() - t0))
    n_bytes = sum(p.numel() * p.element_size() for p in lm.parameters())  # tied head counted once
    return best, n_bytes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--llamba", default=os.path.join(ROOT, "build", "bin", "llamba"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bin", "bench_linear"))
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    model = os.path.realpath(args.model)
    roof = roofline(args.bench, args.threads)
    lb = weight_bytes_gguf(model)
    print(f"torch {torch.__version__}, {args.tokens} greedy tokens after {PROMPT!r}; best of repeats")
    print("| engine | weights | threads | tokens/s | weight MB/token | achieved GB/s | read roofline GB/s | share |")
    print("|---|---|---|---|---|---|---|---|")
    for t in args.threads:
        rows = [("llamba", "Q4_1 + Q8_0 head", llamba_decode(args.llamba, model, args.tokens, t), lb)]
        tps, tb = torch_decode(model, args.tokens, t)
        rows.append(("transformers", "fp32 (dequantized)", tps, tb))
        for name, w, tps, nb in rows:
            gbs = tps * nb / 1e9
            print(f"| {name} | {w} | {t} | {tps:.1f} | {nb / 1e6:.1f} | {gbs:.1f} | {roof[t] / 1e9:.1f} | "
                  f"{100 * gbs * 1e9 / roof[t]:.0f}% |")


if __name__ == "__main__":
    main()
