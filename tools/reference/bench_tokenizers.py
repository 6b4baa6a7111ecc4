#!/usr/bin/env python3
"""Single-thread tokenizer throughput, side by side in one run: llamba's bench_tokenizer (C++), tiktoken and HF
`tokenizers`, encoding one whole text (default WikiText-2 test) without special tokens. Prints a Markdown table
for docs/benchmarks.md. MB = 10^6 bytes of UTF-8 input; each number is the median of --repeats runs, timed in
process CPU time on both sides (Google Benchmark's default; time.process_time in Python), which keeps the
comparison fair on a shared machine.

Usage: /opt/refenv/bin/python tools/reference/bench_tokenizers.py [--bench build/bin/bench_tokenizer]
       [--text data/corpus/wikitext2_test.txt.xz] [--repeats 7]
"""
import argparse
import json
import lzma
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

# Single thread for HF tokenizers (rayon) before it is imported.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tokenizer_fixtures import LLAMA3_PATTERN  # noqa: E402


def read_text(path):
    return (lzma.open(path) if path.endswith(".xz") else open(path, "rb")).read()


def timed(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.process_time()
        n = len(fn())
        times.append(time.process_time() - t)
    return statistics.median(times), n


def bench_cpp(binary, text_path, repeats):
    out = subprocess.run([binary, "--benchmark_filter=^encode/", "--benchmark_format=json",
                          f"--benchmark_repetitions={repeats}", "--benchmark_report_aggregates_only=true"],
                         env=dict(os.environ, LLAMBA_BENCH_TEXT=text_path), capture_output=True, text=True, check=True)
    res = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            res[b["run_name"].split("/")[1]] = (b["bytes_per_second"], int(b["tokens"]))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bin", "bench_tokenizer"))
    ap.add_argument("--text", default=os.path.join(ROOT, "data", "corpus", "wikitext2_test.txt.xz"))
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()

    import tiktoken
    import tokenizers
    from tiktoken.load import load_tiktoken_bpe
    from tokenizers import Tokenizer, pre_tokenizers

    raw = read_text(args.text)
    text = raw.decode("utf-8")
    mb = len(raw) / 1e6
    cpp = bench_cpp(args.bench, os.path.abspath(args.text), args.repeats)

    rows = []
    # Llama-3.
    d = os.path.join(ROOT, "data", "tokenizers", "llama3")
    enc = tiktoken.Encoding("llama3", pat_str=LLAMA3_PATTERN,
                            mergeable_ranks=load_tiktoken_bpe(os.path.join(d, "tokenizer.model")), special_tokens={})
    hf = Tokenizer.from_str(lzma.open(os.path.join(d, "tokenizer.json.xz")).read().decode())
    rows.append(("Llama-3 (128,256)", "llama3", timed(lambda: enc.encode_ordinary(text), args.repeats),
                 timed(lambda: hf.encode(text, add_special_tokens=False).ids, args.repeats)))
    # GPT-2: tiktoken ranks are GPT-2's ids, rebuilt from the committed tokenizer.json.
    g = json.loads(lzma.open(os.path.join(ROOT, "data", "tokenizers", "gpt2", "tokenizer.json.xz")).read())
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:] + [256 + i for i in range(256 - len(bs))]
    bs += [b for b in range(256) if b not in bs]
    dec = {chr(c): b for b, c in zip(bs, cs)}
    ranks = {bytes(dec[ch] for ch in t): i for t, i in g["model"]["vocab"].items() if t != "<|endoftext|>"}
    import tiktoken_ext.openai_public as oai
    genc = tiktoken.Encoding("gpt2", pat_str=oai.r50k_pat_str, mergeable_ranks=ranks, special_tokens={})
    ghf = Tokenizer.from_str(json.dumps(g))
    rows.append(("GPT-2 (50,257)", "gpt2", timed(lambda: genc.encode_ordinary(text), args.repeats),
                 timed(lambda: ghf.encode(text, add_special_tokens=False).ids, args.repeats)))
    # SmolLM2: HF only (transformers' GGUF conversion with SmolLM2's digit-splitting pre-tokenizer).
    from transformers import AutoTokenizer
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "v.gguf"), "wb").write(
            lzma.open(os.path.join(ROOT, "tests", "fixtures", "tokenizer", "smollm2_vocab.gguf.xz")).read())
        shf = AutoTokenizer.from_pretrained(tmp, gguf_file="v.gguf").backend_tokenizer
    shf.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    rows.append(("SmolLM2 (49,152)", "smollm2", None,
                 timed(lambda: shf.encode(text, add_special_tokens=False).ids, args.repeats)))

    print(f"Input: {os.path.relpath(args.text, ROOT)} ({len(raw):,} bytes); single thread; median of "
          f"{args.repeats} runs in CPU time; MB = 10^6 bytes")
    cpu = platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), cpu)
    print(f"Machine: {cpu}, {os.cpu_count()} logical CPUs; "
          f"tiktoken {tiktoken.__version__}, tokenizers {tokenizers.__version__}, Python {platform.python_version()}")
    print()
    print("| tokenizer | llamba MB/s | tiktoken MB/s | HF tokenizers MB/s | llamba / tiktoken | tokens (llamba = refs) |")
    print("|---|---|---|---|---|---|")
    for label, key, tt, hft in rows:
        ours, n = cpp[key]
        ours_mb = ours / 1e6
        cells = [f"{ours_mb:.1f}"]
        cells.append(f"{mb / tt[0]:.1f}" if tt else "—")
        cells.append(f"{mb / hft[0]:.1f}")
        cells.append(f"{ours_mb / (mb / tt[0]):.2f}×" if tt else "—")
        same = all(x[1] == n for x in (tt, hft) if x)
        cells.append(f"{n:,} ({'yes' if same else 'NO'})")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
