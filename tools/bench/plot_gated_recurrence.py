#!/usr/bin/env python3
"""Plot and tabulate bench_gated_recurrence results (Google Benchmark JSON) for docs/benchmarks.md.

Usage:
  build/bin/bench_gated_recurrence --benchmark_out=gr.json --benchmark_out_format=json
  python3 tools/bench/plot_gated_recurrence.py docs/img/bench_gated_recurrence.png gr.json [more.json ...] > table.md

One panel per configuration, time per token (ns) versus T on log-log axes: an O(T) mode is flat, an
O(T log T) mode rises like log T, an O(T^2) mode has slope 1. Each point is the best run of that benchmark
over all repetitions in all the given files (the machine is shared: the minimum is the least disturbed run).
Prints a markdown table to stdout.
Requirements: tools/bench/requirements.txt (matplotlib).
"""
import json
import math
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TIME_SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
MODES = ["recurrent", "scan", "chunked", "quadratic"]
PANELS = [
    ("llamba", "cpu_f32", "Llamba-like: H=4, N=P=64, scalar real gates, fp32, 2 threads"),
    ("gateloop", "cpu_f32", "GateLoop-like: H=4, N=P=32, complex per-channel gates, fp32, 2 threads"),
    ("small", "ref_f64", "fp64 oracle: H=1, N=P=16 (ref scan = Hillis-Steele)"),
]


def load(paths):
    rows = defaultdict(dict)  # (cfg, backend, mode) -> {T: (seconds, flops_per_s)}
    benchmarks, context = [], {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        benchmarks += data["benchmarks"]
        context = data.get("context", context)
    for b in benchmarks:
        if b.get("run_type") == "aggregate":
            continue
        parts = b["name"].split("/")
        cfg, backend, mode, t = parts[1], parts[2], parts[3], int(parts[4].split(":")[1])
        sec = b["real_time"] * TIME_SCALE[b["time_unit"]]
        old = rows[(cfg, backend, mode)].get(t)
        if old is None or sec < old[0]:  # best of the repetitions: the least disturbed by other load
            rows[(cfg, backend, mode)][t] = (sec, b.get("FLOP/s", float("nan")))
    return context, rows


def plot(rows, out_png):
    fig, axes = plt.subplots(1, len(PANELS), figsize=(6 * len(PANELS), 4.6))
    for ax, (cfg, backend, title) in zip(axes, PANELS):
        for mode in MODES:
            r = rows.get((cfg, backend, mode))
            if not r:
                continue
            ts = sorted(r)
            ax.plot(ts, [r[t][0] / t * 1e9 for t in ts], marker="o", label=mode)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("T (tokens)")
        ax.set_ylabel("time per token (ns)")
        ax.set_title(title, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("gated_recurrence_forward on the 2-core dev machine: flat = O(T), slope 1 = O(T^2)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)


def table(rows):
    lines = []
    for cfg, backend, title in PANELS:
        modes = [m for m in MODES if (cfg, backend, m) in rows]
        if not modes:
            continue
        lines.append(f"**{title}** — milliseconds per call (GFLOP/s achieved)\n")
        lines.append("| T | " + " | ".join(modes) + " |")
        lines.append("|---:|" + "---:|" * len(modes))
        ts = sorted({t for m in modes for t in rows[(cfg, backend, m)]})
        for t in ts:
            cells = []
            for m in modes:
                v = rows[(cfg, backend, m)].get(t)
                cells.append("" if v is None else f"{v[0] * 1e3:.3g} ({v[1] / 1e9:.3g})")
            lines.append(f"| {t} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    context, rows = load(sys.argv[2:])
    plot(rows, sys.argv[1])
    print(table(rows))
    print(f"<!-- host: {context.get('host_name', '?')}, {context.get('num_cpus', '?')} cpus, "
          f"{context.get('mhz_per_cpu', '?')} MHz, date {context.get('date', '?')} -->")


if __name__ == "__main__":
    main()
