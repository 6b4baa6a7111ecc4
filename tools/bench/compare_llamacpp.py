#!/usr/bin/env python3
"""llamba beside llama.cpp on the same GGUF files, same threads, in one run: prefill of P tokens and decode of N
tokens (each after D tokens of depth), alternating the engines round by round, medians of the rounds.

llama.cpp runs in-process through llama-cpp-python==0.3.36 (built by tools/bench/install_llamacpp.sh), timed like
llama-bench: random token ids, the KV cache / recurrent memory cleared before each test, only llama_decode inside
the clock (Llama.eval; its per-call Python cost is ~10 µs against milliseconds per token). llamba runs
`llamba bench -r 1` for each round (its own warm-up first, only the forwards timed).

--mamba2 DIR writes a Mamba-2 130M-shaped model with random weights in llama.cpp's layout (the `gguf` package,
tensor names and shapes as llama.cpp's converter writes them; vocabulary 50,280 as mamba-130m's) as F32, then
Q8_0 and Q4_0 through `llamba quantize` (byte-identical to llama-quantize, docs/quality.md), and adds them.

    /work/venv-bench/bin/python tools/bench/compare_llamacpp.py -m models/SmolLM2-135M-Instruct.Q4_1.gguf \
        --mamba2 /tmp/m2 -t 2 -p 512 -n 128 --rounds 3 --json /tmp/compare.json
Never run by CI.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_mamba2_130m(path, vocab=50280, d=768, layers=24, d_state=128, head_dim=64, expand=2, groups=1, conv=4):
    import gguf
    import numpy as np

    rng = np.random.default_rng(0)
    di, H = expand * d, expand * d // head_dim
    cc = di + 2 * groups * d_state
    w = gguf.GGUFWriter(path, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.MAMBA2])
    w.add_name("mamba2-130m-shape-random")
    w.add_context_length(2**20)
    w.add_embedding_length(d)
    w.add_feed_forward_length(0)
    w.add_head_count(0)
    w.add_block_count(layers)
    w.add_ssm_conv_kernel(conv)
    w.add_ssm_inner_size(di)
    w.add_ssm_state_size(d_state)
    w.add_ssm_time_step_rank(H)
    w.add_ssm_group_count(groups)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    # A vocabulary llama.cpp accepts (it refuses a file without one): GPT-2 bytes, one merge, then filler tokens.
    tokens = [chr(0x100 + b) if b < 33 or 126 < b < 161 or b == 173 else chr(b) for b in range(256)]
    tokens[128] = "he"
    tokens += [f"<t{i}>" for i in range(256, vocab)]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([1] * vocab)
    w.add_token_merges(["h e"])
    w.add_bos_token_id(0)
    w.add_eos_token_id(1)
    w.add_add_bos_token(False)

    def normal(*shape, scale=0.02):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w.add_tensor("token_embd.weight", normal(vocab, d))
    w.add_tensor("output_norm.weight", np.ones(d, np.float32))
    for l in range(layers):
        p = f"blk.{l}."
        w.add_tensor(p + "attn_norm.weight", np.ones(d, np.float32))
        w.add_tensor(p + "ssm_in.weight", normal(2 * di + 2 * groups * d_state + H, d))
        w.add_tensor(p + "ssm_conv1d.weight", normal(cc, conv, scale=0.3))
        w.add_tensor(p + "ssm_conv1d.bias", np.zeros(cc, np.float32))
        dt = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), H))
        w.add_tensor(p + "ssm_dt.bias", (dt + np.log(-np.expm1(-dt))).astype(np.float32))  # softplus⁻¹(dt)
        w.add_tensor(p + "ssm_a", -rng.uniform(1, 16, (H, 1)).astype(np.float32))
        w.add_tensor(p + "ssm_d", np.ones((H, 1), np.float32))
        w.add_tensor(p + "ssm_norm.weight", np.ones((groups, di // groups), np.float32))
        w.add_tensor(p + "ssm_out.weight", normal(d, di))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def mamba2_files(out_dir, llamba):
    os.makedirs(out_dir, exist_ok=True)
    f32 = os.path.join(out_dir, "mamba2-130m-shape.F32.gguf")
    if not os.path.exists(f32):
        write_mamba2_130m(f32 + ".tmp")
        os.replace(f32 + ".tmp", f32)
    files = [f32]
    for t in ("Q8_0", "Q4_0"):
        q = os.path.join(out_dir, f"mamba2-130m-shape.{t}.gguf")
        if not os.path.exists(q):
            subprocess.run([llamba, "quantize", f32, q, t], check=True, stdout=subprocess.DEVNULL)
        files.append(q)
    return files


def clear_memory(llm):
    ctx = llm._ctx
    for name in ("memory_clear", "kv_cache_clear"):
        fn = getattr(ctx, name, None)
        if fn is not None:
            fn(True) if name == "memory_clear" else fn()
            break
    llm.reset()


def llamacpp_round(llm, tests, rng, vocab):
    out = {}
    for kind, n, depth in tests:
        clear_memory(llm)
        if depth:
            llm.eval([rng.randrange(vocab) for _ in range(depth)])
        toks = [rng.randrange(vocab) for _ in range(n)]
        t0 = time.perf_counter()
        if kind == "pp":
            llm.eval(toks)
        else:
            for t in toks:
                llm.eval([t])
        out[test_name(kind, n, depth)] = n / (time.perf_counter() - t0)
    return out


def llamba_round(llamba, model, threads, prefill, decode, depths):
    cmd = [llamba, "bench", "-m", model, "-t", str(threads), "-r", "1", "-o", "json", "-q",
           "-p", ",".join(map(str, prefill)) or "0", "-n", ",".join(map(str, decode)) or "0",
           "-d", ",".join(map(str, depths))]
    rows = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return {r["test"]: r["avg_ts"] for r in rows}


def test_name(kind, n, depth):
    return f"{kind}{n}" + (f" @ d{depth}" if depth else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-m", "--model", action="append", default=[], help="GGUF file (repeatable)")
    ap.add_argument("--mamba2", metavar="DIR", help="also write and compare Mamba-2 130M-shaped F32/Q8_0/Q4_0 here")
    ap.add_argument("-t", "--threads", type=int, default=os.cpu_count())
    ap.add_argument("-p", "--prefill", type=int, nargs="*", default=[512])
    ap.add_argument("-n", "--decode", type=int, nargs="*", default=[128])
    ap.add_argument("-d", "--depth", type=int, nargs="*", default=[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--llamba", default=os.path.join(REPO, "build/bin/llamba"))
    ap.add_argument("--json", help="write every round's numbers here")
    args = ap.parse_args()
    import llama_cpp

    models = list(args.model) + (mamba2_files(args.mamba2, args.llamba) if args.mamba2 else [])
    if not models:
        sys.exit("give at least one -m MODEL.gguf or --mamba2 DIR")
    tests = [("pp", p, d) for d in args.depth for p in args.prefill] + \
            [("tg", n, d) for d in args.depth for n in args.decode]
    rng = random.Random(1234)
    report = {"llama_cpp_python": llama_cpp.__version__, "threads": args.threads, "models": {}}
    for model in models:
        n_ctx = max(args.depth) + max(args.prefill + args.decode) + 8
        llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_batch=2048, n_ubatch=512, n_threads=args.threads,
                              n_threads_batch=args.threads, verbose=False)
        vocab = llm.n_vocab()
        llm.eval([rng.randrange(vocab) for _ in range(8)])  # warm-up
        rounds = {"llama.cpp": [], "llamba": []}
        for r in range(args.rounds):
            order = ("llama.cpp", "llamba") if r % 2 == 0 else ("llamba", "llama.cpp")
            for engine in order:
                if engine == "llama.cpp":
                    rounds[engine].append(llamacpp_round(llm, tests, rng, vocab))
                else:
                    rounds[engine].append(llamba_round(args.llamba, model, args.threads, args.prefill, args.decode,
                                                       args.depth))
            print(f"[compare] {os.path.basename(model)} round {r + 1}/{args.rounds} done", file=sys.stderr)
        del llm
        report["models"][model] = rounds
    print(f"| model | test | llama.cpp t/s | llamba t/s | llamba / llama.cpp |  ({args.threads} threads, medians of "
          f"{args.rounds} alternating rounds, llama-cpp-python {llama_cpp.__version__})")
    print("| --- | --- | ---: | ---: | ---: |")
    for model, rounds in report["models"].items():
        for kind, n, depth in tests:
            name = test_name(kind, n, depth)
            a = statistics.median(x[name] for x in rounds["llama.cpp"])
            b = statistics.median(x[name] for x in rounds["llamba"])
            print(f"| {os.path.basename(model)} | {name} | {a:.1f} | {b:.1f} | {b / a:.2f}× |")
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(report, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
