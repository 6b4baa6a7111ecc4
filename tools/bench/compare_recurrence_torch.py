#!/usr/bin/env python3
"""llamba's gated_recurrence next to PyTorch on the same CPU, in one run, for docs/benchmarks.md.

Shapes: the bench's `llamba` configuration (B = 1, H = G = 4, N = P = 64, scalar real gates, fp32, chunk 64,
2 threads). llamba's times come from build/bin/bench_gated_recurrence (Google Benchmark JSON, best of the
repetitions); PyTorch's from the same computation written the way PyTorch users write it (our own code, the
standard SSD formulation as in mamba_ssm's ssd_minimal):
  recurrent  a Python loop over t of h = a_t·h + k_tᵀ v_t, y_t = q_t·h (what a step-by-step decode costs)
  chunked    intra-chunk (Q Kᵀ ⊙ L) V with L from segment sums, chunk states, inter-chunk pass, output
  quadratic  (Q Kᵀ ⊙ exp(segsum)) V over the whole sequence
Both sides check nothing here: equality of the modes is the tests' job.

Usage: /opt/refenv/bin/python tools/bench/compare_recurrence_torch.py [BENCH_BINARY]
Requirements: PyTorch (tools/reference/requirements.txt).
"""
import json
import subprocess
import sys
import tempfile
import time

import torch

H, N, P, CHUNK = 4, 64, 64, 64
TS = [256, 1024, 4096]
MODES = ["recurrent", "chunked", "quadratic"]


def inputs(T, seed=1):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(1, T, H, N, generator=g) / N ** 0.5
    k = torch.randn(1, T, H, N, generator=g) / N ** 0.5
    v = torch.randn(1, T, H, P, generator=g)
    ld = -torch.rand(1, T, H, generator=g) * 0.1  # log decay in (-0.1, 0]
    return q, k, v, ld


def segsum(x):
    """x (..., T) -> (..., T, T): sum of x[j+1..i] for j <= i, -inf above the diagonal."""
    T = x.shape[-1]
    c = torch.cumsum(x, dim=-1)
    s = c[..., :, None] - c[..., None, :]
    return s.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), float("-inf"))


def torch_recurrent(q, k, v, ld):
    T = q.shape[1]
    h = torch.zeros(1, H, N, P)
    a = ld.exp()
    ys = []
    for t in range(T):
        h = a[:, t, :, None, None] * h + k[:, t, :, :, None] * v[:, t, :, None, :]
        ys.append(torch.einsum("bhn,bhnp->bhp", q[:, t], h))
    return torch.stack(ys, dim=1)


def torch_quadratic(q, k, v, ld):
    L = segsum(ld.transpose(1, 2)).exp()  # (1, H, T, T)
    return torch.einsum("bthn,bshn,bhts,bshp->bthp", q, k, L, v)


def torch_chunked(q, k, v, ld):
    T = q.shape[1]
    c = T // CHUNK
    qc, kc, vc = (x.reshape(1, c, CHUNK, H, -1) for x in (q, k, v))
    a = ld.reshape(1, c, CHUNK, H).permute(0, 3, 1, 2)  # (1, H, c, l)
    a_cum = torch.cumsum(a, dim=-1)
    y_diag = torch.einsum("bclhn,bcshn,bhcls,bcshp->bclhp", qc, kc, segsum(a).exp(), vc)
    decay_states = (a_cum[..., -1:] - a_cum).exp()
    states = torch.einsum("bclhn,bhcl,bclhp->bchnp", kc, decay_states, vc)
    states = torch.cat([torch.zeros_like(states[:, :1]), states], dim=1)
    decay_chunk = segsum(torch.nn.functional.pad(a_cum[..., -1], (1, 0))).exp()
    states = torch.einsum("bhzc,bchnp->bzhnp", decay_chunk, states)[:, :-1]
    y_off = torch.einsum("bclhn,bchnp,bhcl->bclhp", qc, states, a_cum.exp())
    return (y_diag + y_off).reshape(1, T, H, P)


def best_seconds(fn, args, min_total=0.5, reps=5):
    fn(*args)  # warm-up
    best = float("inf")
    for _ in range(reps):
        n, t0 = 0, time.perf_counter()
        while True:
            fn(*args)
            n += 1
            if time.perf_counter() - t0 >= min_total / reps:
                break
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def llamba_seconds(binary):
    flt = "gated_recurrence/llamba/cpu_f32/(" + "|".join(MODES) + ")/T:(" + "|".join(map(str, TS)) + ")/"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([binary, f"--benchmark_filter={flt}", "--benchmark_repetitions=3",
                        f"--benchmark_out={out.name}", "--benchmark_out_format=json"],
                       check=True, stdout=subprocess.DEVNULL)
        runs = json.load(open(out.name))["benchmarks"]
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    best = {}
    for r in runs:
        if r.get("run_type") != "iteration":
            continue
        parts = r["run_name"].split("/")
        key = (parts[3], int(parts[4].split(":")[1]))
        best[key] = min(best.get(key, float("inf")), r["real_time"] * scale[r["time_unit"]])
    return best


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/bin/bench_gated_recurrence"
    torch.set_num_threads(2)
    ours = llamba_seconds(binary)
    fns = {"recurrent": torch_recurrent, "chunked": torch_chunked, "quadratic": torch_quadratic}
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; llamba: {binary}")
    print("| mode | T | llamba | PyTorch | PyTorch / llamba |")
    print("|---|---|---|---|---|")
    for mode in MODES:
        for T in TS:
            args = inputs(T)
            if mode == "recurrent" and T > 1024:
                continue  # the Python loop takes seconds; the trend is clear by then
            theirs = best_seconds(fns[mode], args)
            mine = ours[(mode, T)]
            print(f"| {mode} | {T} | {mine * 1e3:.3g} ms | {theirs * 1e3:.3g} ms | {theirs / mine:.2f}× |")


if __name__ == "__main__":
    main()
