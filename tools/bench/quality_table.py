"""Collates the quality runs of docs/quality.md into its Markdown table and the plot of perplexity against bits
per weight. Reads, for each type T, from RESULTS:
  ll-T.ppl.json      llamba eval perplexity --json (with --kl-base F32, except for F32 itself)
  lc-T.ppl.txt[.err] llama-perplexity's stdout [stderr] (F32: --kl-divergence-base; others: --kl-divergence)
  ll-T.lambada.json  llamba eval lambada --json          ll-T.blimp.json  llamba eval blimp --json
Bits per weight come from `llamba info` on the model each JSON names.

    python tools/bench/quality_table.py RESULTS docs/img/quality_ppl_bpw.png
"""
import json
import os
import re
import subprocess
import sys

TYPES = ["F32", "F16", "Q8_0", "Q6_K", "Q4_K_M", "Q4_1", "Q4_0"]
LLAMBA = os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin", "llamba")


def load_json(path):
    return json.load(open(path)) if os.path.exists(path) else None


def bits_per_weight(model):
    out = subprocess.run([LLAMBA, "info", model], capture_output=True, text=True, check=True).stdout
    params = int(re.search(r"parameters:\s+(\d+)", out).group(1))
    mib = float(re.search(r"weights ([\d.]+) MiB", out).group(1))
    return mib * 1024 * 1024 * 8 / params, mib


def llama_cpp(path):
    """PPL ± error, mean KL, p99 KL and same-top % from llama-perplexity's output (None where absent)."""
    if not os.path.exists(path):
        return {}
    text = open(path).read()
    if os.path.exists(path + ".err"):  # llama-perplexity prints the final estimate on stderr
        text += open(path + ".err").read()
    r = {}
    m = re.search(r"Mean PPL\(Q\)\s*:\s*([\d.]+) ±\s*([\d.]+)", text) or re.search(
        r"Final estimate: PPL = ([\d.]+) \+/- ([\d.]+)", text)
    if m:
        r["ppl"], r["ppl_err"] = float(m.group(1)), float(m.group(2))
    for key, pat in [("kl", r"Mean\s+KLD:\s+([-\d.]+)"), ("kl_p99", r"99\.0%\s+KLD:\s+([-\d.]+)"),
                     ("top", r"Same top p:\s+([\d.]+)")]:
        m = re.search(pat, text)
        if m:
            r[key] = float(m.group(1))
    return r


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def main(results, png):
    rows = []
    for t in TYPES:
        ppl = load_json(os.path.join(results, f"ll-{t}.ppl.json"))
        if ppl is None:
            continue
        bpw, mib = bits_per_weight(ppl["model"])
        kl = ppl.get("kl")
        lam = load_json(os.path.join(results, f"ll-{t}.lambada.json"))
        bl = load_json(os.path.join(results, f"ll-{t}.blimp.json"))
        rows.append(dict(type=t, bpw=bpw, mib=mib, ppl=ppl["ppl"]["value"], ppl_err=ppl["ppl"]["error"],
                         kl=kl["mean"]["value"] if kl else 0.0, kl_p99=kl["p99"] if kl else 0.0,
                         top=100 * kl["same_top"]["value"] if kl else 100.0,
                         lambada=100 * lam["accuracy"] if lam else None, blimp=100 * bl["accuracy"] if bl else None,
                         lc=llama_cpp(os.path.join(results, f"lc-{t}.ppl.txt"))))
    print("| type | bits/weight | weights MiB | PPL llamba | PPL llama.cpp | KL llamba (mean / p99) | "
          "KL llama.cpp (mean / p99) | top-1 llamba | top-1 llama.cpp | LAMBADA acc % | BLiMP acc % |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        lc = r["lc"]
        lc_kl = f"{lc['kl']:.5f} / {lc['kl_p99']:.4f}" if "kl" in lc else "0 (base)"
        lc_top = fmt(lc.get("top"), ".2f") if "top" in lc else "100 (base)"
        print(f"| {r['type']} | {r['bpw']:.2f} | {r['mib']:.1f} | {r['ppl']:.4f} ± {r['ppl_err']:.4f} | "
              f"{fmt(lc.get('ppl'), '.4f')} ± {fmt(lc.get('ppl_err'), '.4f')} | {r['kl']:.5f} / {r['kl_p99']:.4f} | "
              f"{lc_kl} | {r['top']:.2f} | {lc_top} | {fmt(r['lambada'], '.1f')} | {fmt(r['blimp'], '.2f')} |")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    xs = [r["bpw"] for r in rows]
    ax.errorbar(xs, [r["ppl"] for r in rows], yerr=[r["ppl_err"] for r in rows], fmt="o", capsize=3,
                label="llamba eval perplexity")
    lc = [(r["bpw"], r["lc"]["ppl"]) for r in rows if "ppl" in r["lc"]]
    ax.plot([x for x, _ in lc], [y for _, y in lc], "x", ms=8, label="llama-perplexity")
    for r in rows:
        ax.annotate(r["type"], (r["bpw"], r["ppl"]), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("bits per weight (whole file's tensors)")
    ax.set_ylabel("perplexity, WikiText-2 test (64 × 512 tokens)")
    ax.set_title("SmolLM2-135M-Instruct: the default Q4_1 file and its requantizations")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = png + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, png)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: quality_table.py RESULTS_DIR OUT.png")
    main(sys.argv[1], sys.argv[2])
