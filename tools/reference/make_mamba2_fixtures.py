#!/usr/bin/env python3
"""Reference fixtures for Mamba-2: tiny random transformers `Mamba2ForCausalLM` checkpoints and their outputs.

Upstream: transformers 5.17.0 `Mamba2ForCausalLM`, its PyTorch path (`torch_forward` fallbacks: no causal_conv1d, no
mamba_ssm installed), fp32 on the CPU, one thread. transformers' gated norm (`MambaRMSNormGated`) normalizes over all of
d_inner; mamba_ssm's `RMSNormGated` over groups of d_inner / n_groups (docs/models.md §"Mamba-2 mixer"). They agree only
for n_groups = 1, so every fixture but `groups2` has n_groups = 1, and `groups2` swaps the norm modules' forward for
mamba_ssm 2.3.2.post1's own `rms_norm_ref` (sdist, imported by path, sha256 pinned) with group_size = d_inner / G.

For each entry of FIXTURES writes tests/fixtures/mamba2/<name>/:
  config.json, model.safetensors   transformers `save_pretrained` output (generation_config.json removed)
  reference.safetensors
    input_ids (b, T) i64             prompt; T not a multiple of chunk_size
    logits (b, T, V)
    hidden.{l} (b, T, D)             l = 0..L: residual stream entering layer l; hidden.L = after the last layer
    mixer_y.{l} (b, T, d_inner)      scan output + D x, before the gated norm
    mixer_gated.{l} (b, T, d_inner)  after the gated norm (y * silu(z), RMS per group, * weight)
    mixer_out.{l} (b, T, D)          mixer output (out_proj) before the residual add
    final_hidden (b, T, D)           after norm_f
    state.{l}.conv (b, K-1, Cc)      last K-1 pre-conv xBC rows after the prompt, oldest first (transformers' conv
                                     cache columns [1:], transposed)
    state.{l}.ssm (b, H, P, N)
    decode_ids (b, 6) i64, decode_logits (b, 6, V), decode_state.{l}.*   one token per step through the cache
    extend_ids (b, 5) i64, extend_logits (b, 5, V), extend_state.{l}.*   5 tokens at once after the decode, through
                                     the cache (chunked scan from the carried state, conv over the carried columns)
  fp32 unless stated; __metadata__ says how they were made.

Checks (asserted, printed): transformers' hidden_states equal the hooks; prefill + decode + extend equal one forward
over all tokens; an independent fp64 re-implementation (sequential recurrence, grouped norm) matches every tap.
Usage: /opt/refenv/bin/python tools/reference/make_mamba2_fixtures.py [out_dir]   (MAMBA_SSM_SRC: the sdist)
"""
import copy
import hashlib
import importlib.util
import json
import math
import os
import platform
import sys
import types

import numpy as np
import safetensors
import safetensors.torch
import torch
import torch.nn.functional as F
import transformers
from transformers import Mamba2Config, Mamba2ForCausalLM

from fixture_io import checked_sizes, save_canonical

FIXTURE_FORMAT = "1"
GENERATOR = "tools/reference/make_mamba2_fixtures.py"
BATCH = 2
DECODE_STEPS = 6
EXTEND_STEPS = 5
MAX_FILE_BYTES = 1_000_000
MAMBA_SSM_VERSION = "2.3.2.post1"
LAYERNORM_GATED_SHA256 = "eb6252e247b90f1c8a75946efbc1a221e0c4da701b6757ddae49f3495cf7a42f"
DEFAULT_MAMBA_SRC = "/tmp/sd/mamba_ssm-2.3.2.post1"

# d_inner = expand * D = H * P (transformers checks it). chunk never divides T.
FIXTURES = [
    # The basic shape: H 4, P 8, N 16, d_inner 32 (D 16, expand 2), tied head.
    dict(name="tied_g1", seed=2001, D=16, expand=2, H=4, P=8, N=16, L=2, V=256, tied=True, G=1, chunk=16, T=37),
    # P = 12, 3 layers, untied head, eps 1e-3, in/out_proj biases, no conv bias, chunk 10.
    dict(name="p_odd_untied", seed=2002, D=24, expand=2, H=4, P=12, N=8, L=3, V=200, tied=False, G=1, chunk=10,
         T=37, eps=1e-3, use_bias=True, use_conv_bias=False),
    # Two B/C groups (heads 0,1 -> group 0; 2,3 -> group 1) and the grouped norm (mamba_ssm rms_norm_ref).
    dict(name="groups2", seed=2003, D=32, expand=1, H=4, P=8, N=8, L=2, V=256, tied=True, G=2, chunk=16, T=37),
    # time_step_limit clamps dt on both sides (transformers' decode step ignores it: see LIMIT_NOTE).
    dict(name="dt_limit", seed=2004, D=16, expand=2, H=4, P=8, N=8, L=2, V=256, tied=False, G=1, chunk=16, T=37,
         dt_limit=(0.02, 0.3)),
    # Prompt shorter than the conv window (zero rows in the conv state).
    dict(name="short_t", seed=2005, D=16, expand=2, H=4, P=8, N=8, L=2, V=256, tied=True, G=1, chunk=8, T=2),
]

LIMIT_NOTE = ("transformers' chunk path clamps dt to time_step_limit, its single-token step "
              "(mamba2_selective_state_update) does not (mamba_ssm's step does not either); decode_* and extend_* "
              "of this fixture therefore come from one cached forward over prompt + decode (+ extend) tokens, the "
              "clamped semantics used everywhere by llamba")


def load_rms_norm_ref():
    """mamba_ssm 2.3.2.post1's `rms_norm_ref` from the sdist (layernorm_gated.py imports only torch/triton/einops)."""
    path = os.path.join(os.environ.get("MAMBA_SSM_SRC", DEFAULT_MAMBA_SRC), "mamba_ssm", "ops", "triton",
                        "layernorm_gated.py")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != LAYERNORM_GATED_SHA256:
        raise RuntimeError(f"{path}: sha256 {digest} is not mamba_ssm {MAMBA_SSM_VERSION}'s layernorm_gated.py")
    spec = importlib.util.spec_from_file_location("mamba_ssm_layernorm_gated", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.rms_norm_ref


def use_grouped_norm(model, rms_norm_ref, G):
    """Replaces every MambaRMSNormGated.forward by mamba_ssm's grouped rms_norm_ref (norm_before_gate=False)."""
    for layer in model.backbone.layers:
        norm = layer.mixer.norm
        gs = norm.weight.shape[0] // G

        def fwd(self, hidden_states, gate=None, gs=gs):
            return rms_norm_ref(hidden_states, self.weight, None, z=gate, eps=self.variance_epsilon, group_size=gs,
                                norm_before_gate=False)

        norm.forward = types.MethodType(fwd, norm)


def make_config(fx):
    return Mamba2Config(vocab_size=fx["V"], hidden_size=fx["D"], expand=fx["expand"], num_heads=fx["H"],
                        head_dim=fx["P"], state_size=fx["N"], num_hidden_layers=fx["L"], n_groups=fx["G"],
                        chunk_size=fx["chunk"], conv_kernel=4, layer_norm_epsilon=fx.get("eps", 1e-5),
                        use_bias=fx.get("use_bias", False), use_conv_bias=fx.get("use_conv_bias", True),
                        time_step_limit=fx.get("dt_limit", (0.0, float("inf"))), tie_word_embeddings=fx["tied"],
                        residual_in_fp32=True, hidden_act="silu", pad_token_id=None, bos_token_id=None,
                        eos_token_id=None)


def init_params(model, fx, gen):
    """Random weights in physical ranges: dt_bias from mamba_ssm's init (dt in [1e-3, 0.1]) plus an input-dependent
    part of std ~1 (softplus(dt) spans ~1e-3..1), A = exp(A_log) in [1, 16], norms 1 +- 0.15, D 1 +- 0.5."""
    D, di, H, GN = fx["D"], fx["expand"] * fx["D"], fx["H"], fx["G"] * fx["N"]

    def randn(*shape, std=1.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * std

    def rand(*shape):
        return torch.rand(*shape, generator=gen, dtype=torch.float32)

    sd = {"backbone.embeddings.weight": randn(fx["V"], D)}
    for i in range(fx["L"]):
        p = f"backbone.layers.{i}."
        sd[p + "norm.weight"] = 1.0 + randn(D, std=0.15)
        sd[p + "mixer.in_proj.weight"] = torch.cat([
            randn(di, D, std=1.0 / math.sqrt(D)),  # z
            randn(di, D, std=1.0 / math.sqrt(D)),  # x
            randn(2 * GN, D, std=0.7 / math.sqrt(D)),  # B, C
            randn(H, D, std=1.0 / math.sqrt(D)),  # dt
        ])
        conv_w = randn(di + 2 * GN, 1, 4, std=0.3)
        conv_w[:, :, -1] += 0.7  # tap K-1 multiplies the current token
        sd[p + "mixer.conv1d.weight"] = conv_w
        if fx.get("use_conv_bias", True):
            sd[p + "mixer.conv1d.bias"] = randn(di + 2 * GN, std=0.2)
        dt = torch.exp(rand(H) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
        sd[p + "mixer.dt_bias"] = dt + torch.log(-torch.expm1(-dt))  # softplus^-1
        sd[p + "mixer.A_log"] = torch.log(1.0 + 15.0 * rand(H))
        sd[p + "mixer.D"] = 1.0 + randn(H, std=0.5)
        sd[p + "mixer.norm.weight"] = 1.0 + randn(di, std=0.15)
        sd[p + "mixer.out_proj.weight"] = randn(D, di, std=0.5 / math.sqrt(di))
        if fx.get("use_bias", False):
            sd[p + "mixer.in_proj.bias"] = randn(sd[p + "mixer.in_proj.weight"].shape[0], std=0.1)
            sd[p + "mixer.out_proj.bias"] = randn(D, std=0.1)
    sd["backbone.norm_f.weight"] = 1.0 + randn(D, std=0.15)
    if not fx["tied"]:
        sd["lm_head.weight"] = randn(fx["V"], D, std=2.0 / math.sqrt(D))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    return sd


class Taps:
    """Forward hooks collecting every tap of one forward."""

    def __init__(self, model):
        self.t, self.hooks = {}, []
        bb = model.backbone
        for l, layer in enumerate(bb.layers):
            self.hooks.append(layer.register_forward_pre_hook(self._pre(f"hidden.{l}"), with_kwargs=True))
            self.hooks.append(layer.mixer.register_forward_hook(self._post(f"mixer_out.{l}")))
            self.hooks.append(layer.mixer.norm.register_forward_pre_hook(self._pre(f"mixer_y.{l}"), with_kwargs=True))
            self.hooks.append(layer.mixer.norm.register_forward_hook(self._post(f"mixer_gated.{l}")))
        self.hooks.append(bb.norm_f.register_forward_pre_hook(self._pre(f"hidden.{len(bb.layers)}"), with_kwargs=True))
        self.hooks.append(bb.norm_f.register_forward_hook(self._post("final_hidden")))

    def _pre(self, key):
        def hook(mod, args, kwargs):
            self.t[key] = (args[0] if args else kwargs["hidden_states"]).detach().clone()
        return hook

    def _post(self, key):
        def hook(mod, args, out):
            self.t[key] = out.detach().clone()
        return hook

    def remove(self):
        for h in self.hooks:
            h.remove()


def cache_states(cache, L):
    """[(conv (b, K-1, Cc), ssm (b, H, P, N))] from transformers' cache: conv columns [1:] (its 4th, oldest column
    is rolled out before use), transposed to rows oldest first."""
    out = []
    for l in range(L):
        layer = cache.layers[l]
        out.append({"conv": layer.conv_states[0][:, :, 1:].transpose(1, 2).contiguous().clone(),
                    "ssm": layer.recurrent_states[0].clone()})
    return out


def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item()


# ---------------------------------------------------------------------------------------------------------------------
# Independent fp64 reference: token-by-token recurrence straight from the equations (docs/models.md §"Mamba-2 mixer").

def ref64(sd, fx, ids):
    D, di, H, P, N, G, L = fx["D"], fx["expand"] * fx["D"], fx["H"], fx["P"], fx["N"], fx["G"], fx["L"]
    eps = fx.get("eps", 1e-5)
    lo, hi = fx.get("dt_limit", (0.0, float("inf")))
    w = {k: v.double() for k, v in sd.items()}

    def rms(x, wt):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps) * wt

    b, T = ids.shape
    h = w["backbone.embeddings.weight"][ids]
    taps = {}
    for l in range(L):
        p = f"backbone.layers.{l}."
        taps[f"hidden.{l}"] = h.clone()
        u = rms(h, w[p + "norm.weight"])
        proj = u @ w[p + "mixer.in_proj.weight"].T
        if p + "mixer.in_proj.bias" in w:
            proj = proj + w[p + "mixer.in_proj.bias"]
        z, xbc, dt = proj.split([di, di + 2 * G * N, H], dim=-1)
        cw = w[p + "mixer.conv1d.weight"][:, 0, :]  # (Cc, 4)
        xp = F.pad(xbc, (0, 0, 3, 0))
        c = sum(xp[:, k:k + T] * cw[:, k] for k in range(4))
        if p + "mixer.conv1d.bias" in w:
            c = c + w[p + "mixer.conv1d.bias"]
        c = F.silu(c)
        x, B, C = c.split([di, G * N, G * N], dim=-1)
        x = x.reshape(b, T, H, P)
        B, C = B.reshape(b, T, G, N), C.reshape(b, T, G, N)
        delta = F.softplus(dt + w[p + "mixer.dt_bias"]).clamp(lo, hi)  # (b, T, H)
        A = -torch.exp(w[p + "mixer.A_log"])
        S = torch.zeros(b, H, P, N, dtype=torch.float64)
        y = torch.zeros(b, T, H, P, dtype=torch.float64)
        grp = torch.arange(H) // (H // G)
        for t in range(T):
            Bt, Ct = B[:, t, grp], C[:, t, grp]  # (b, H, N)
            S = torch.exp(delta[:, t] * A)[..., None, None] * S + \
                (delta[:, t, :, None] * x[:, t])[..., None] * Bt[:, :, None, :]
            y[:, t] = (S * Ct[:, :, None, :]).sum(-1)
        y = (y + w[p + "mixer.D"][:, None] * x).reshape(b, T, di)
        taps[f"mixer_y.{l}"] = y
        g = (y * F.silu(z)).reshape(b, T, G, di // G)
        g = (g / torch.sqrt(g.pow(2).mean(-1, keepdim=True) + eps)).reshape(b, T, di) * w[p + "mixer.norm.weight"]
        taps[f"mixer_gated.{l}"] = g
        o = g @ w[p + "mixer.out_proj.weight"].T
        if p + "mixer.out_proj.bias" in w:
            o = o + w[p + "mixer.out_proj.bias"]
        taps[f"mixer_out.{l}"] = o
        h = h + o
    taps[f"hidden.{L}"] = h
    hf = rms(h, w["backbone.norm_f.weight"])
    taps["final_hidden"] = hf
    head = w["lm_head.weight"] if "lm_head.weight" in w else w["backbone.embeddings.weight"]
    taps["logits"] = hf @ head.T
    return taps


# ---------------------------------------------------------------------------------------------------------------------

def build(fx, out_root, rms_norm_ref):
    name, T, S, E, L = fx["name"], fx["T"], DECODE_STEPS, EXTEND_STEPS, fx["L"]
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    gen = torch.Generator().manual_seed(fx["seed"])
    model = Mamba2ForCausalLM(make_config(fx)).float().eval()
    sd = init_params(model, fx, gen)
    ids = torch.randint(0, fx["V"], (BATCH, T), generator=gen, dtype=torch.int64)
    dec_ids = torch.randint(0, fx["V"], (BATCH, S), generator=gen, dtype=torch.int64)
    ext_ids = torch.randint(0, fx["V"], (BATCH, E), generator=gen, dtype=torch.int64)
    model.save_pretrained(d, safe_serialization=True)
    if os.path.exists(os.path.join(d, "generation_config.json")):
        os.remove(os.path.join(d, "generation_config.json"))
    model = Mamba2ForCausalLM.from_pretrained(d, dtype=torch.float32).eval()  # run on what the files hold
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if fx["tied"]:
        sd.pop("lm_head.weight", None)
        assert model.lm_head.weight.data_ptr() == model.backbone.embeddings.weight.data_ptr()
    grouped = fx["G"] > 1
    r = {"name": name}
    with torch.no_grad():
        if not grouped:  # transformers' norm == mamba_ssm's grouped norm when G = 1
            g0 = torch.Generator().manual_seed(0)
            x, zz = (torch.randn(3, 5, fx["expand"] * fx["D"], generator=g0) for _ in range(2))
            nrm = model.backbone.layers[0].mixer.norm
            r["norm_hf_vs_ref_g1"] = maxdiff(nrm(x, zz), rms_norm_ref(x, nrm.weight, None, z=zz,
                                                                        eps=nrm.variance_epsilon,
                                                                        group_size=x.shape[-1],
                                                                        norm_before_gate=False))
            assert r["norm_hf_vs_ref_g1"] < 1e-5, r
        else:
            ungrouped = copy.deepcopy(model)
            use_grouped_norm(model, rms_norm_ref, fx["G"])

        taps = Taps(model)
        out = model(ids, use_cache=True, output_hidden_states=True)
        taps.remove()
        t = taps.t
        logits, cache = out.logits, out.cache_params
        # transformers' hidden_states: (after layer 0, ..., after layer L-1, after norm_f) -- no embedding entry
        hs = out.hidden_states
        assert len(hs) == L + 1
        for l in range(L):
            assert torch.equal(hs[l], t[f"hidden.{l + 1}"]), l
        assert torch.equal(hs[L], t["final_hidden"])
        state = cache_states(cache, L)
        if grouped:
            r["ungrouped_norm_logits_diff"] = maxdiff(ungrouped(ids).logits, logits)

        all_ids = torch.cat([ids, dec_ids, ext_ids], 1)
        if "dt_limit" in fx:
            # One cached forward per continuation point (chunk path, clamped).
            o1 = model(torch.cat([ids, dec_ids], 1), use_cache=True)
            dlogits, dstate = o1.logits[:, T:], cache_states(o1.cache_params, L)
            o2 = model(all_ids, use_cache=True)
            elogits, estate = o2.logits[:, T + S:], cache_states(o2.cache_params, L)
            steps = []  # what transformers' own step gives (unclamped), for the record
            c2 = model(ids, use_cache=True).cache_params
            for s in range(S):
                steps.append(model(dec_ids[:, s:s + 1], cache_params=c2, use_cache=True).logits[:, 0])
            r["hf_step_unclamped_vs_clamped"] = maxdiff(torch.stack(steps, 1), dlogits)
        else:
            steps = []
            for s in range(S):
                steps.append(model(dec_ids[:, s:s + 1], cache_params=cache, use_cache=True).logits[:, 0])
            dlogits, dstate = torch.stack(steps, 1), cache_states(cache, L)
            oe = model(ext_ids, cache_params=cache, use_cache=True)
            elogits, estate = oe.logits, cache_states(cache, L)
        # prefill + decode + extend == one forward
        full = model(all_ids).logits
        r["continuation_vs_one_forward"] = max(maxdiff(dlogits, full[:, T:T + S]), maxdiff(elogits, full[:, T + S:]))

        # the independent fp64 reference, every tap
        r64 = ref64(sd, fx, ids)
        t["logits"] = logits
        r["fp32_vs_fp64"] = {k: maxdiff(t[k], v) / max(v.abs().max().item(), 1e-30) for k, v in r64.items()}
        full64 = ref64(sd, fx, all_ids)["logits"]
        r["continuation_vs_fp64"] = max(maxdiff(dlogits, full64[:, T:T + S]),
                                        maxdiff(elogits, full64[:, T + S:])) / full64.abs().max().item()
        r["logits_absmax"] = logits.abs().max().item()
        delta = []
        for l in range(L):
            u = model.backbone.layers[l].norm(t[f"hidden.{l}"])
            mx = model.backbone.layers[l].mixer
            dt = mx.in_proj(u)[..., -fx["H"]:]
            delta.append(F.softplus(dt + mx.dt_bias).flatten())
        delta = torch.cat(delta)
        r["delta_range"] = (delta.min().item(), delta.max().item())

    worst = max(r["fp32_vs_fp64"].values())
    assert worst < 1e-4 and r["continuation_vs_fp64"] < 1e-4, (name, r)
    assert r["continuation_vs_one_forward"] < 1e-4 * max(1.0, r["logits_absmax"]), (name, r)

    tensors = {"input_ids": ids, "logits": logits, "final_hidden": t["final_hidden"], "decode_ids": dec_ids,
               "decode_logits": dlogits, "extend_ids": ext_ids, "extend_logits": elogits}
    for l in range(L + 1):
        tensors[f"hidden.{l}"] = t[f"hidden.{l}"]
    for l in range(L):
        for k in ("mixer_y", "mixer_gated", "mixer_out"):
            tensors[f"{k}.{l}"] = t[f"{k}.{l}"]
        for k in ("conv", "ssm"):
            tensors[f"state.{l}.{k}"] = state[l][k]
            tensors[f"decode_state.{l}.{k}"] = dstate[l][k]
            tensors[f"extend_state.{l}.{k}"] = estate[l][k]
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    for k, v in tensors.items():
        assert v.dtype == (torch.int64 if k.endswith("_ids") else torch.float32), k
    di = fx["expand"] * fx["D"]
    meta = {
        "fixture_format": FIXTURE_FORMAT,
        "generator": GENERATOR,
        "upstream": "transformers " + transformers.__version__ + " Mamba2ForCausalLM, PyTorch path (torch_forward "
                    "fallbacks), fp32, CPU",
        "name": name,
        "seed": str(fx["seed"]),
        "dtype": "float32",
        "torch_threads": "1",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "python": platform.python_version(),
        "batch": str(BATCH),
        "T": str(T),
        "decode_steps": str(S),
        "extend_steps": str(E),
        "gated_norm": ("mamba_ssm " + MAMBA_SSM_VERSION + " rms_norm_ref, group_size d_inner/G (sha256 "
                       + LAYERNORM_GATED_SHA256 + ")") if grouped else "transformers MambaRMSNormGated (G = 1)",
        "continuation": LIMIT_NOTE if "dt_limit" in fx else "transformers cache path (step, then a 5-token chunk)",
        "conv_state_layout": "(b, K-1, Cc) = transformers conv_states[:, :, 1:].transpose(1, 2)",
        "dims": json.dumps({"D": fx["D"], "L": L, "H": fx["H"], "G": fx["G"], "P": fx["P"], "N": fx["N"], "K": 4,
                            "d_inner": di, "Cc": di + 2 * fx["G"] * fx["N"], "V": fx["V"], "chunk": fx["chunk"]}),
        "fp32_vs_fp64_rel": json.dumps({k: float(f"{v:.3e}") for k, v in r["fp32_vs_fp64"].items()}),
    }
    save_canonical(tensors, os.path.join(d, "reference.safetensors"), meta)
    r["sizes"] = checked_sizes(d, MAX_FILE_BYTES)
    return r


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    out_root = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/mamba2"
    rms_norm_ref = load_rms_norm_ref()
    for fx in FIXTURES:
        r = build(fx, out_root, rms_norm_ref)
        f64 = r["fp32_vs_fp64"]
        print(f"== {r['name']}: files {r['sizes']}")
        print(f"  |logits| max {r['logits_absmax']:.2f}; softplus(dt + dt_bias) in [{r['delta_range'][0]:.2e}, "
              f"{r['delta_range'][1]:.2e}]")
        print("  transformers fp32 vs independent fp64 (max abs / max |ref|): worst "
              f"{max(f64.values()):.1e}, logits {f64['logits']:.1e}; continuation {r['continuation_vs_fp64']:.1e}")
        print(f"  prefill + decode + extend vs one forward: {r['continuation_vs_one_forward']:.1e}")
        for k in ("norm_hf_vs_ref_g1", "ungrouped_norm_logits_diff", "hf_step_unclamped_vs_clamped"):
            if k in r:
                print(f"  {k}: {r[k]:.2e}")


if __name__ == "__main__":
    main()
