#!/usr/bin/env python3
"""GPU check of the Llamba fixtures against the official kernel path (mamba_ssm Triton), fp32.

Loads tests/fixtures/llamba/<name>/{config.json, model.safetensors} into llamba_reference.LlambaLMHeadModel on CUDA and
replaces its two kernel call sites with mamba_ssm 2.3.2.post1's Triton kernels, called with the arguments of
cartesia-pytorch's discrete_mamba2.py (cartesia-ai/edge @ 95d827686cb1d370ba19df31a2e25544e92a338b):
  prefill: mamba_chunk_scan_combined(x=x / softplus(a), dt=a, dt_softplus=True, A=-ones(H), B, C, chunk_size,
           return_final_states); D x added outside. Without a cache chunk_size = config chunk_size and the input u
           zero-padded to a multiple; with a cache chunk_size = T (the official choice).
  decode:  selective_state_update(x=x / softplus(a), dt=repeat(a, 'b h -> b h p'), dt_softplus=True, A=-ones(H,P,N),
           B, C, state, dt_bias=zeros(H,P), D=zeros(H,P)); D x added outside.
The rest of the model (in_proj, conv, gate, out_proj, norms, MLP, head) is the same torch code on CUDA (as upstream
without causal_conv1d), with TF32 off for cuBLAS/cuDNN, so differences come from the kernels.

Compared with reference.safetensors: the uncached forward (logits, hidden.*, mixer_out.*, final_hidden), the cached
prefill (state.*), then the decode steps from that state (decode_logits, decode_state.*). Backend "torch" runs the
CPU reference code (ssd_minimal) on CUDA as a control.

mamba_ssm is imported from source (MAMBA_SSM_SRC, the unpacked sdist) without running its package __init__, which
needs the CUDA extension: a stub package object carries the real __path__.
Tensor-core precision of the Triton dots (tl.dot on fp32 inputs): TF32 by default; TRITON_F32_DEFAULT=ieee forces
fp32. MAMBA_DETERMINISTIC=1 makes mamba_ssm skip autotuning (cheapest config). Both are read at import time.
Usage: python3 check_llamba_triton.py --fixture DIR --variant NAME --json FILE
       python3 check_llamba_triton.py --summarize DIR_OF_JSON [--out FILE]
"""
import argparse
import glob
import json
import os
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def import_triton_kernels():
    import llamba_reference as ref
    pkg = os.path.join(ref.mamba_src_dir(), "mamba_ssm")
    if "mamba_ssm" not in sys.modules:
        m = types.ModuleType("mamba_ssm")
        m.__path__ = [pkg]
        m.__version__ = ref.MAMBA_SSM_VERSION
        sys.modules["mamba_ssm"] = m
    from mamba_ssm.ops.triton.selective_state_update import selective_state_update
    from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined
    return mamba_chunk_scan_combined, selective_state_update


def make_triton_methods(mamba_chunk_scan_combined, selective_state_update):
    import torch
    import torch.nn.functional as F
    from einops import repeat

    def chunk_scan(self, x, a, B, C, chunk_size, seqlen, return_final_states):
        result = mamba_chunk_scan_combined(
            x=x / F.softplus(a).to(x.dtype).unsqueeze(-1),
            dt=a,
            dt_softplus=True,
            A=-torch.ones(self.n_v_heads, device=a.device),
            B=B,
            C=C,
            chunk_size=chunk_size,
            return_final_states=return_final_states,
        )
        return result if return_final_states else (result, None)

    def state_update(self, x, a, B, C, ssm_state):
        zeros = torch.zeros((self.n_v_heads, self.headdim), device=a.device).to(dtype=x.dtype)
        ones = torch.ones((self.n_v_heads, self.headdim, self.d_state), device=a.device).to(dtype=x.dtype)
        return selective_state_update(
            x=x / F.softplus(a).to(x.dtype).unsqueeze(-1),
            dt=repeat(a, "b h -> b h p", p=self.headdim),
            dt_softplus=True,
            A=-ones,
            B=B,
            C=C,
            state=ssm_state,  # updated in place
            dt_bias=zeros,
            D=zeros,
        )

    return chunk_scan, state_update


def compare(out, refd, keys):
    """max abs diff and max |ref| over a group of tensors."""
    d = m = 0.0
    for k in keys:
        r = refd[k].double()
        d = max(d, (out[k].detach().cpu().double() - r).abs().max().item())
        m = max(m, r.abs().max().item())
    return {"maxabs": d, "refmax": m, "rel": d / m if m else 0.0}


def run_fixture(fixture, backend, device):
    import torch
    from safetensors.torch import load_file
    import llamba_reference as ref
    model = ref.LlambaLMHeadModel.from_pretrained(fixture).to(device)
    fx = load_file(os.path.join(fixture, "reference.safetensors"))
    L = model.config.n_layer
    ids, dec = fx["input_ids"].to(device), fx["decode_ids"].to(device)
    b, S = ids.shape[0], dec.shape[1]
    out = {}
    with torch.no_grad():
        taps = {}
        out["logits"] = model(ids, taps=taps)  # uncached: config chunk_size, zero-padded input
        out.update(taps)
        state = model.allocate_state(b, device=device)
        logits_cached = model(ids, state=state)  # cached prefill: chunk_size = T
        for l in range(L):
            out[f"state.{l}.conv"], out[f"state.{l}.ssm"] = state[l]["conv"].clone(), state[l]["ssm"].clone()
        out["decode_logits"] = torch.stack([model.step(dec[:, s], state) for s in range(S)], dim=1)
        for l in range(L):
            out[f"decode_state.{l}.conv"], out[f"decode_state.{l}.ssm"] = state[l]["conv"], state[l]["ssm"]
        if device != "cpu":
            torch.cuda.synchronize()
    groups = {
        "logits": ["logits"],
        "hidden": [f"hidden.{l}" for l in range(L + 1)],
        "mixer_out": [f"mixer_out.{l}" for l in range(L)],
        "final_hidden": ["final_hidden"],
        "state.conv": [f"state.{l}.conv" for l in range(L)],
        "state.ssm": [f"state.{l}.ssm" for l in range(L)],
        "decode_logits": ["decode_logits"],
        "decode_state.conv": [f"decode_state.{l}.conv" for l in range(L)],
        "decode_state.ssm": [f"decode_state.{l}.ssm" for l in range(L)],
    }
    res = {g: compare(out, fx, ks) for g, ks in groups.items()}
    res["cached_vs_uncached_logits"] = {"maxabs": (logits_cached - out["logits"]).abs().max().item()}
    return res


def run(args):
    import torch
    import llamba_reference as ref
    device = args.device
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    info = {"fixture": os.path.basename(os.path.normpath(args.fixture)), "variant": args.variant,
            "torch": torch.__version__,
            "env": {k: os.environ.get(k) for k in ("TRITON_F32_DEFAULT", "MAMBA_DETERMINISTIC")}}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    results = {}
    if "torch" in args.backends:
        t = time.time()
        results["torch"] = run_fixture(args.fixture, "torch", device)
        info["torch_s"] = round(time.time() - t, 1)
    if "triton" in args.backends:
        import triton
        info["triton"] = triton.__version__
        t = time.time()
        chunk_scan, state_update = make_triton_methods(*import_triton_kernels())
        ref.DiscreteMamba2.chunk_scan = chunk_scan
        ref.DiscreteMamba2.state_update = state_update
        results["triton"] = run_fixture(args.fixture, "triton", device)
        info["triton_s"] = round(time.time() - t, 1)
    info["results"] = results
    text = json.dumps(info, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)


def summarize(args):
    rows = []
    for fn in sorted(glob.glob(os.path.join(args.summarize, "*.json"))):
        with open(fn) as f:
            rows.append(json.load(f))
    groups = ["logits", "hidden", "mixer_out", "final_hidden", "state.ssm", "state.conv", "decode_logits",
              "decode_state.ssm"]
    lines = ["max |out - fixture| / max |fixture| per tensor group (fp32)",
             f"{'fixture':8} {'variant':14} {'backend':7} " + " ".join(f"{g:>12}" for g in groups)]
    for r in rows:
        for be, res in r["results"].items():
            lines.append(f"{r['fixture']:8} {r['variant']:14} {be:7} " +
                         " ".join(f"{res[g]['rel']:>12.2e}" for g in groups))
    lines.append("max abs diff, logits / decode_logits / state.ssm / decode_state.ssm:")
    for r in rows:
        for be, res in r["results"].items():
            lines.append(f"  {r['fixture']:8} {r['variant']:14} {be:7} " + " / ".join(
                f"{res[g]['maxabs']:.2e}" for g in ("logits", "decode_logits", "state.ssm", "decode_state.ssm")) +
                f"  (cached vs uncached logits {res['cached_vs_uncached_logits']['maxabs']:.2e})")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)
        with open(os.path.splitext(args.out)[0] + ".txt", "w") as f:
            f.write(text + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fixture")
    p.add_argument("--variant", default="default")
    p.add_argument("--backends", default="torch,triton")
    p.add_argument("--device", default="cuda")
    p.add_argument("--json")
    p.add_argument("--summarize")
    p.add_argument("--out")
    args = p.parse_args()
    if args.summarize:
        summarize(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
