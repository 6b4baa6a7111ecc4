#!/usr/bin/env python3
"""Collates tools/experiments/gateloop_memory_horizon.sh runs: a markdown table of answer accuracy by horizon
(mean and min..max over seeds) and a PNG of the held-out loss curves (matplotlib, pinned in
tools/bench/requirements.txt; skipped when it is not installed).
Usage: python3 tools/experiments/collate_memory_horizon.py OUT_DIR [PNG]"""
import csv
import glob
import json
import os
import sys


def read_eval(path):
    rows = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            rows[r["horizon"]] = (int(r["answers"]), float(r["accuracy"]))
    return rows


def read_log(path):
    steps, val = [], []
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["val_loss"]:
                steps.append(int(r["step"]))
                val.append(float(r["val_loss"]))
    return steps, val


def main():
    out = sys.argv[1]
    png = sys.argv[2] if len(sys.argv) > 2 else os.path.join(out, "curves.png")
    variants = ["complex", "real", "fixed"]
    buckets = ["1-8", "9-16", "17-32", "33-64", "65-128", "129+", "all"]
    runs = {v: sorted(glob.glob(os.path.join(out, f"{v}-seed*"))) for v in variants}
    print("| variant | seeds | " + " | ".join(f"h {b}" if b != "all" else "all answers" for b in buckets) + " |")
    print("|---|---|" + "---|" * len(buckets))
    for v in variants:
        evals = [read_eval(os.path.join(r, "eval.csv")) for r in runs[v] if os.path.exists(os.path.join(r, "eval.csv"))]
        if not evals:
            continue
        cells = []
        for b in buckets:
            accs = [e[b][1] for e in evals if e.get(b, (0, 0))[0] > 0]
            n = evals[0].get(b, (0, 0))[0]
            cells.append("—" if not accs else f"{sum(accs) / len(accs):.3f} ({min(accs):.2f}..{max(accs):.2f}, n={n})")
        print(f"| {v} | {len(evals)} | " + " | ".join(cells) + " |")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib not installed: no {png})", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colors = {"complex": "tab:blue", "real": "tab:orange", "fixed": "tab:green"}
    for v in variants:
        for i, r in enumerate(runs[v]):
            s, l = read_log(os.path.join(r, "log.csv"))
            ax.plot(s, l, color=colors[v], alpha=0.8, label=v if i == 0 else None)
    ax.set_xlabel("step")
    ax.set_ylabel("held-out answer loss (nats)")
    ax.set_yscale("log")
    with open(os.path.join(out, "data", "meta.json")) as f:
        length = json.load(f)["length"]
    ax.set_title(f"GateLoop on memory-horizon (length {length}): complex vs real data-controlled vs fixed gates")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(f"wrote {png}", file=sys.stderr)


if __name__ == "__main__":
    main()
