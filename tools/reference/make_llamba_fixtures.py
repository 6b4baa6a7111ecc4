#!/usr/bin/env python3
"""Reference fixtures for Llamba: tiny random checkpoints in the cartesia-ai/Llamba-* layout plus reference outputs.

Upstream: cartesia-pytorch `LlambaLMHeadModel` (cartesia-ai/edge @ 95d827686cb1d370ba19df31a2e25544e92a338b), re-
implemented in tools/reference/llamba_reference.py because `cartesia-pytorch==0.0.2` on PyPI is empty; its Triton
chunk scan is replaced by mamba_ssm 2.3.2.post1's `ssd_minimal_discrete` (CPU, fp32). check_llamba_triton.py compares
these fixtures with the official Triton kernel path on a GPU.

For each entry of FIXTURES writes tests/fixtures/llamba/<name>/:
  config.json          cartesia format (model_type "llamba", d_model, n_layer, vocab_size, ..., mlp_cfg, ssm_cfg)
  model.safetensors    backbone.embedding.weight [V_pad, D], backbone.layers.{i}.{input_layernorm.weight,
                       mixer.in_proj.weight, mixer.z_bias, mixer.conv1d.weight [Cc,1,4], mixer.conv1d.bias, mixer.D,
                       mixer.out_proj.weight, post_attention_layernorm.weight, mlp.{gate,up,down}_proj.weight},
                       backbone.final_layernorm.weight, lm_head.weight (untied only); fp32; metadata {"format": "pt"}
  reference.safetensors
    input_ids (b, T) i64           prompt, T not a multiple of ssm_cfg.chunk_size
    logits (b, T, V_pad)           prefill logits (V_pad = vocab_size padded to pad_vocab_size_multiple)
    hidden.{l} (b, T, D)           l = 0..L: hidden.0 = embedding output, hidden.{l+1} = residual stream after layer l
    mixer_out.{l} (b, T, D)        mixer output of layer l before its residual add
    final_hidden (b, T, D)         after the final norm
    state.{l}.conv (b, K-1, Cc)    last K-1 pre-conv xBC rows after the prompt, oldest first (zero rows if T < K-1)
    state.{l}.ssm (b, H, P, N)     SSM state after the prompt
    decode_ids (b, S) i64          fed one token per step through the step path, starting from the prefill state
    decode_logits (b, S, V_pad)
    decode_state.{l}.conv / .ssm   state after the last decode step
    mixer_matrix.0 (b, H, T, T)    materialized mixer of layer 0 on its normed input (D on the diagonal)
  all fp32 unless stated; __metadata__ says how they were made.

Also asserts (and prints): in fp64, the chunked forward for block_len 1, 7, chunk_size, T equals token-by-token decode
(logits and states); the materialized matrix times x equals the scan; plus fp32 agreement numbers.
Usage: /opt/refenv/bin/python tools/reference/make_llamba_fixtures.py [out_dir]   (MAMBA_SSM_SRC: see llamba_reference)
Re-running gives byte-identical files (fixed seeds, one thread, canonical safetensors header order).
"""
import copy
import json
import math
import os
import platform
import sys

import einops
import numpy as np
import safetensors
import safetensors.torch
import torch
import torch.nn.functional as F
import transformers
from einops import rearrange

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llamba_reference as ref  # noqa: E402
from fixture_io import checked_sizes, save_canonical  # noqa: E402

FIXTURE_FORMAT = "1"
GENERATOR = "tools/reference/make_llamba_fixtures.py"
BATCH = 2
DECODE_STEPS = 6
MAX_FILE_BYTES = 1_000_000

# name, seed, model shape, prompt length T. Decays exp(-softplus(a)) are steered per head by `a_mean` (see init).
FIXTURES = [
    # H = G, power-of-two P, tied head, V already a multiple of 8.
    dict(name="g_eq_h", seed=1001, d_model=64, n_layer=2, vocab_size=256, pad_vocab_size_multiple=8,
         tie_embeddings=True, norm_epsilon=1e-5, intermediate_size=128,
         ssm=dict(d_state=8, n_v_heads=4, n_qk_heads=4, expand=1, chunk_size=16), T=37),
    # G < H (two heads per B/C group), N = 16; vocab_size 313 padded to 320 by pad_vocab_size_multiple 16.
    dict(name="g_lt_h", seed=1002, d_model=64, n_layer=2, vocab_size=313, pad_vocab_size_multiple=16,
         tie_embeddings=True, norm_epsilon=1e-5, intermediate_size=96,
         ssm=dict(d_state=16, n_v_heads=4, n_qk_heads=2, expand=1, chunk_size=16), T=37),
    # P = 12 (not a power of two), G = 1, untied head (lm_head.weight present). norm_epsilon 1e-3 applies to the
    # final norm only: block norms hard-code 1e-5 upstream.
    dict(name="p_odd", seed=1003, d_model=48, n_layer=2, vocab_size=256, pad_vocab_size_multiple=8,
         tie_embeddings=False, norm_epsilon=1e-3, intermediate_size=112,
         ssm=dict(d_state=8, n_v_heads=4, n_qk_heads=1, expand=1, chunk_size=16), T=37),
    # Prompt shorter than the conv window (T = 2 < K - 1: zero rows in the conv state), expand 2, 3 layers, untied.
    dict(name="short_t", seed=1004, d_model=32, n_layer=3, vocab_size=256, pad_vocab_size_multiple=8,
         tie_embeddings=False, norm_epsilon=1e-5, intermediate_size=64,
         ssm=dict(d_state=8, n_v_heads=4, n_qk_heads=2, expand=2, chunk_size=8), T=2),
]


def config_json(fx):
    """The cartesia config.json layout (cartesia-ai/Llamba-3B/config.json, docs/models.md §"Llamba checkpoints")."""
    ssm = dict(fx["ssm"])
    return {
        "model_type": "llamba",
        "vocab_size": fx["vocab_size"],
        "tie_embeddings": fx["tie_embeddings"],
        "pad_vocab_size_multiple": fx["pad_vocab_size_multiple"],
        "lm_head_bias": False,
        "d_model": fx["d_model"],
        "n_layer": fx["n_layer"],
        "resid_dropout": 0.0,
        "norm_epsilon": fx["norm_epsilon"],
        "mlp_cfg": {"intermediate_size": fx["intermediate_size"], "bias": False, "act_fn": "silu"},
        "ssm_cfg": {"d_state": ssm["d_state"], "n_v_heads": ssm["n_v_heads"], "n_qk_heads": ssm["n_qk_heads"],
                    "expand": ssm["expand"], "chunk_size": ssm["chunk_size"], "activation": "identity",
                    "bias": False},
    }


def init_params(model, gen):
    """Random weights in physical ranges. Decays: the embedding rows share a component along a unit vector e0, so
    every normed input u has u.e0 ~ kappa; the a-rows of in_proj get (a_mean[h] / kappa) e0 plus noise, which puts
    head h's a around a_mean[h] (a_mean from -3.5 to 2.0, noise ~0.5): decays exp(-softplus(a)) = sigmoid(-a) spread
    over about (0.05, 0.99)."""
    cfg = model.config
    D = cfg.d_model

    def randn(*shape, std=1.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * std

    e0 = randn(D)
    e0 = e0 / e0.norm()
    c = 1.0  # shared-component weight: E_v = 0.5 (n_v + c sqrt(D) e0)
    kappa = c * math.sqrt(D) / math.sqrt(1.0 + c * c)
    sd = {}
    sd["backbone.embedding.weight"] = 0.5 * (randn(cfg.padded_vocab_size, D) + c * math.sqrt(D) * e0)
    for i, layer in enumerate(model.backbone.layers):
        mx = layer.mixer
        di, gn, H = mx.d_inner, mx.n_qk_heads * mx.d_state, mx.n_v_heads
        p = f"backbone.layers.{i}."
        a_mean = torch.linspace(-3.5, 2.0, H)
        w_a = a_mean[:, None] / kappa * e0[None, :] + randn(H, D, std=0.5 / math.sqrt(D))
        sd[p + "mixer.in_proj.weight"] = torch.cat([
            randn(di, D, std=1.0 / math.sqrt(D)),  # x
            randn(gn, D, std=0.7 / math.sqrt(D)),  # B
            randn(gn, D, std=0.7 / math.sqrt(D)),  # C
            randn(di, D, std=1.0 / math.sqrt(D)),  # z
            w_a,  # a
        ])
        sd[p + "mixer.z_bias"] = 1.2785 + randn(di, std=0.1)
        conv_w = randn(mx.conv_dim, 1, mx.d_conv, std=0.3)
        conv_w[:, :, -1] += 0.7  # tap K-1 multiplies the current token
        sd[p + "mixer.conv1d.weight"] = conv_w
        sd[p + "mixer.conv1d.bias"] = randn(mx.conv_dim, std=0.2)
        sd[p + "mixer.D"] = 1.0 + randn(H, std=0.5)
        sd[p + "mixer.out_proj.weight"] = randn(D, di, std=0.3 / math.sqrt(di))
        sd[p + "input_layernorm.weight"] = 1.0 + randn(D, std=0.15)
        sd[p + "post_attention_layernorm.weight"] = 1.0 + randn(D, std=0.15)
        I = cfg.mlp_cfg["intermediate_size"]
        sd[p + "mlp.gate_proj.weight"] = randn(I, D, std=1.0 / math.sqrt(D))
        sd[p + "mlp.up_proj.weight"] = randn(I, D, std=1.0 / math.sqrt(D))
        sd[p + "mlp.down_proj.weight"] = randn(D, I, std=0.5 / math.sqrt(I))
    sd["backbone.final_layernorm.weight"] = 1.0 + randn(D, std=0.15)
    if not cfg.tie_embeddings:
        sd["lm_head.weight"] = randn(cfg.padded_vocab_size, D, std=2.0 / math.sqrt(D))
    model.load_state_dict(sd, strict=True)
    return sd


def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item()


def state_diff(s1, s2):
    return max(max(maxdiff(a["conv"], b["conv"]), maxdiff(a["ssm"], b["ssm"])) for a, b in zip(s1, s2))


def state_max(s):
    return max(max(x["conv"].abs().max().item(), x["ssm"].abs().max().item()) for x in s)


def clone_state(s):
    return [{k: v.clone() for k, v in d.items()} for d in s]


def scan_y(mixer, u, block_len):
    """The scan's y + D x (b, T, H, P) of one mixer on its normed input u, via chunk_scan (exact padding)."""
    T = u.shape[1]
    padded = (1 + (T - 1) // block_len) * block_len
    xBC, z, a = mixer.split_proj(mixer.in_proj(F.pad(u, (0, 0, 0, padded - T))))
    x, B, C = mixer.split_xbc(mixer.conv_forward(xBC, padded))
    x = rearrange(x, "b l (h p) -> b l h p", h=mixer.n_v_heads)
    B = rearrange(B, "b l (g n) -> b l g n", g=mixer.n_qk_heads)
    C = rearrange(C, "b l (g n) -> b l g n", g=mixer.n_qk_heads)
    y, _ = mixer.chunk_scan(x, a, B, C, block_len, T, return_final_states=False)
    return (y + torch.einsum("h,blhp->blhp", mixer.D, x))[:, :T]


def matrix_check(model, ids):
    """max |M x - scan| and max |scan| for layer 0 (y + D x level), and the mixer output rebuilt from M."""
    mixer = model.backbone.layers[0].mixer
    u = model.backbone.layers[0].input_layernorm(model.backbone.embedding(ids))
    M, x, z = mixer.materialize(u)
    y_mat = torch.einsum("bhts,bshp->bthp", M, x)
    y_scan = scan_y(mixer, u, mixer.chunk_size)
    out_mat = mixer.out_proj(rearrange(y_mat, "b t h p -> b t (h p)") * F.silu(z + mixer.z_bias))
    return M, maxdiff(y_mat, y_scan), y_scan.abs().max().item(), maxdiff(out_mat, mixer(u))


def decays(model, ids):
    """All decays sigmoid(-a) seen by the mixers on this prompt (for the summary)."""
    taps = {}
    model(ids, taps=taps)
    out = []
    for i, layer in enumerate(model.backbone.layers):
        u = layer.input_layernorm(taps[f"hidden.{i}"])
        _, _, a = layer.mixer.split_proj(layer.mixer.in_proj(u))
        out.append(torch.exp(-F.softplus(a)).flatten())
    return torch.cat(out)


def build(fx, out_root):
    name, T, S = fx["name"], fx["T"], DECODE_STEPS
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    gen = torch.Generator().manual_seed(fx["seed"])
    cfg_dict = config_json(fx)
    model = ref.LlambaLMHeadModel(ref.LlambaConfig(**cfg_dict))
    sd = init_params(model, gen)
    ids = torch.randint(0, fx["vocab_size"], (BATCH, T), generator=gen, dtype=torch.int64)
    dec_ids = torch.randint(0, fx["vocab_size"], (BATCH, S), generator=gen, dtype=torch.int64)

    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg_dict, f, indent=2)
        f.write("\n")
    save_canonical({k: v.contiguous() for k, v in sd.items()}, os.path.join(d, "model.safetensors"),
                   {"format": "pt"})
    model = ref.LlambaLMHeadModel.from_pretrained(d)  # everything below runs on what the files hold
    cfg = model.config
    chunk = cfg.ssm_cfg["chunk_size"]
    assert T % chunk != 0 or T < chunk, "T must not be a multiple of the chunk size"
    L = cfg.n_layer
    r = {"name": name}

    with torch.no_grad():
        # ---- fp32 fixture: prefill with block_len = config chunk_size (exact padding), taps, state ----
        taps = {}
        state = model.allocate_state(BATCH)
        logits = model(ids, state=state, block_len=chunk, taps=taps)
        # official uncached forward (chunk_size, input zero-padded, no masking): same outputs at t < T
        for layer in model.backbone.layers:
            layer.mixer.exact_padding = False
        st_off = model.allocate_state(BATCH)
        logits_off = model(ids, state=st_off, block_len=chunk)
        for layer in model.backbone.layers:
            layer.mixer.exact_padding = True
        r["uncached_official_logits"] = maxdiff(logits_off, logits)
        r["official_padding_state_err"] = max(maxdiff(a["ssm"], b["ssm"]) for a, b in zip(st_off, state))
        # official cached prefill (chunk_size = T)
        st_cached = model.allocate_state(BATCH)
        logits_cached = model(ids, state=st_cached)
        r["cached_chunkT_logits"] = maxdiff(logits_cached, logits)
        r["cached_chunkT_state"] = state_diff(st_cached, state)
        # decode continuation
        dstate = clone_state(state)
        dlogits = torch.stack([model.step(dec_ids[:, s], dstate) for s in range(S)], dim=1)
        # prefill + decode == one forward over T + S tokens
        st_all = model.allocate_state(BATCH)
        logits_all = model(torch.cat([ids, dec_ids], 1), state=st_all, block_len=chunk)
        r["decode_vs_forward_logits"] = maxdiff(dlogits, logits_all[:, T:])
        r["decode_vs_forward_state"] = state_diff(dstate, st_all)
        M, r["matrix_fp32"], _, r["matrix_out_fp32"] = matrix_check(model, ids)

        # ---- fp64 cross-checks: chunked (block_len 1, 7, chunk, T) == token-by-token decode ----
        m64 = copy.deepcopy(model).double()
        s_step = m64.allocate_state(BATCH, torch.float64)
        l_step = torch.stack([m64.step(ids[:, t], s_step) for t in range(T)], dim=1)
        scale_l, scale_s = l_step.abs().max().item(), state_max(s_step)
        worst = 0.0
        for bl in sorted({1, 7, chunk, T}):
            s_bl = m64.allocate_state(BATCH, torch.float64)
            l_bl = m64(ids, state=s_bl, block_len=bl)
            dl, ds = maxdiff(l_bl, l_step), state_diff(s_bl, s_step)
            r[f"fp64_bl{bl}"] = (dl, ds)
            worst = max(worst, dl / scale_l, ds / scale_s)
        assert worst < 1e-11, f"{name}: fp64 chunked vs step relative diff {worst}"
        r["fp64_worst_rel"] = worst
        _, r["matrix_fp64"], ymax, r["matrix_out_fp64"] = matrix_check(m64, ids)
        assert r["matrix_fp64"] < 1e-11 * max(1.0, ymax), f"{name}: M x != scan ({r['matrix_fp64']})"
        assert r["matrix_out_fp64"] < 1e-10, r["matrix_out_fp64"]
        # fp32 fixture vs fp64
        l64 = m64(ids, block_len=chunk)
        r["fp32_vs_fp64_logits"] = maxdiff(logits, l64)
        r["logits_absmax"] = logits.abs().max().item()
        s64 = m64.allocate_state(BATCH, torch.float64)
        m64(ids, state=s64, block_len=chunk)
        for s in range(S):
            m64.step(dec_ids[:, s], s64)
        r["fp32_vs_fp64_decode_state"] = state_diff(dstate, s64)
        r["state_absmax"] = state_max(dstate)
        dec = decays(model, ids)
        r["decay_q"] = [dec.min().item(), torch.quantile(dec, 0.05).item(), torch.quantile(dec, 0.95).item(),
                        dec.max().item()]
        r["hidden_rms"] = [taps[f"hidden.{l}"].pow(2).mean().sqrt().item() for l in range(L + 1)]

    # fp32 sanity bounds (loose: they flag a broken generator, not a tolerance)
    for k in ("uncached_official_logits", "cached_chunkT_logits", "decode_vs_forward_logits", "fp32_vs_fp64_logits"):
        assert r[k] < 1e-3 * max(1.0, r["logits_absmax"]), (name, k, r[k])
    assert r["decay_q"][0] > 0.01 and r["decay_q"][3] < 0.999, r["decay_q"]

    tensors = {"input_ids": ids, "logits": logits, "final_hidden": taps["final_hidden"], "decode_ids": dec_ids,
               "decode_logits": dlogits, "mixer_matrix.0": M}
    for l in range(L + 1):
        tensors[f"hidden.{l}"] = taps[f"hidden.{l}"]
    for l in range(L):
        tensors[f"mixer_out.{l}"] = taps[f"mixer_out.{l}"]
        for k in ("conv", "ssm"):
            tensors[f"state.{l}.{k}"] = state[l][k]
            tensors[f"decode_state.{l}.{k}"] = dstate[l][k]
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    for k, v in tensors.items():
        assert v.dtype == (torch.int64 if k.endswith("_ids") else torch.float32), k
    mx = model.backbone.layers[0].mixer
    meta = {
        "fixture_format": FIXTURE_FORMAT,
        "generator": GENERATOR,
        "reference": "tools/reference/llamba_reference.py",
        "upstream": ref.UPSTREAM,
        "substitution": ("cartesia-pytorch 0.0.2 on PyPI is empty: LlambaLMHeadModel re-implemented from the "
                         "cartesia-ai/edge source; prefill scan = mamba_ssm " + ref.MAMBA_SSM_VERSION +
                         " ssd_minimal_discrete(X=(x/softplus(a))*softplus(a), A=-softplus(a), B, C, block_len) "
                         "in place of the Triton mamba_chunk_scan_combined(x/softplus(a), dt=a, dt_softplus=True, "
                         "A=-1); decode = selective_state_update_ref equations in place of the Triton "
                         "selective_state_update; fp32 on the CPU"),
        "name": name,
        "seed": str(fx["seed"]),
        "dtype": "float32",
        "device": "cpu",
        "torch_threads": "1",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "einops": einops.__version__,
        "python": platform.python_version(),
        "mamba_ssm": ref.MAMBA_SSM_VERSION + " (sdist, mamba_ssm/modules/ssd_minimal.py)",
        "ssd_minimal_sha256": ref.SSD_MINIMAL_SHA256,
        "batch": str(BATCH),
        "T": str(T),
        "decode_steps": str(S),
        "config_chunk_size": str(chunk),
        "prefill_block_len": str(chunk),
        "padding": ("u zero-padded to a multiple of block_len as upstream, then X = 0 and log-decay = 0 on the "
                    "padded steps: outputs at t < T identical to upstream, final state exact"),
        "conv_state_layout": ("(b, K-1, Cc): last K-1 pre-conv xBC rows, oldest first, zero rows if T < K-1 "
                              "(cartesia keeps (b, Cc, K); ours = theirs[:, :, 1:].transpose(1, 2))"),
        "vocab_size": str(cfg.vocab_size),
        "padded_vocab_size": str(cfg.padded_vocab_size),
        "dims": json.dumps({"D": cfg.d_model, "L": L, "H": mx.n_v_heads, "G": mx.n_qk_heads, "P": mx.headdim,
                            "N": mx.d_state, "K": mx.d_conv, "Cc": mx.conv_dim, "d_inner": mx.d_inner,
                            "I": cfg.mlp_cfg["intermediate_size"], "V_pad": cfg.padded_vocab_size}),
        "fp32_vs_fp64_logits_maxabs": f"{r['fp32_vs_fp64_logits']:.3e}",
        "fp32_vs_fp64_decode_state_maxabs": f"{r['fp32_vs_fp64_decode_state']:.3e}",
    }
    save_canonical(tensors, os.path.join(d, "reference.safetensors"), meta)
    r["sizes"] = checked_sizes(d, MAX_FILE_BYTES)
    r["dims"] = json.loads(meta["dims"])
    r["T"], r["chunk"] = T, chunk
    return r


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_root = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/llamba"
    results = [build(fx, out_root) for fx in FIXTURES]
    for r in results:
        d = r["dims"]
        print(f"\n== {r['name']}: D {d['D']} L {d['L']} H {d['H']} G {d['G']} P {d['P']} N {d['N']} Cc {d['Cc']} "
              f"V_pad {d['V_pad']} T {r['T']} chunk {r['chunk']}  files {r['sizes']}")
        print("  fp64 chunked vs step (logits, states) max abs: " +
              ", ".join(f"bl{k[7:]}: {v[0]:.1e}/{v[1]:.1e}" for k, v in r.items() if k.startswith("fp64_bl")) +
              f"  (worst relative {r['fp64_worst_rel']:.1e})")
        print(f"  M x vs scan (layer 0, y + D x): fp64 {r['matrix_fp64']:.1e}, fp32 {r['matrix_fp32']:.1e}; "
              f"mixer out from M: fp64 {r['matrix_out_fp64']:.1e}, fp32 {r['matrix_out_fp32']:.1e}")
        print(f"  fp32: |logits| max {r['logits_absmax']:.2f}; vs fp64 {r['fp32_vs_fp64_logits']:.1e}; "
              f"upstream uncached (zero-padded u) {r['uncached_official_logits']:.1e}; "
              f"upstream cached (chunk = T) logits {r['cached_chunkT_logits']:.1e} states {r['cached_chunkT_state']:.1e}")
        print(f"  fp32: prefill+decode vs one forward: logits {r['decode_vs_forward_logits']:.1e} "
              f"states {r['decode_vs_forward_state']:.1e}; decode state vs fp64 {r['fp32_vs_fp64_decode_state']:.1e} "
              f"(|state| max {r['state_absmax']:.1f})")
        print(f"  final SSM state error if the zero-padded input were scanned as upstream does: "
              f"{r['official_padding_state_err']:.2e}")
        q = r["decay_q"]
        print(f"  decays min {q[0]:.3f} p5 {q[1]:.3f} p95 {q[2]:.3f} max {q[3]:.3f}; hidden rms " +
              " ".join(f"{x:.2f}" for x in r["hidden_rms"]))
    print("\nsummary")
    hdr = f"{'name':8} {'H':>2} {'G':>2} {'P':>3} {'N':>3} {'V_pad':>5} {'T':>3} {'fp64 chunk~step':>15} " \
          f"{'Mx~scan64':>9} {'fp32~fp64':>9} {'dec~fwd32':>9} {'ref.st KB':>9}"
    print(hdr)
    for r in results:
        d = r["dims"]
        print(f"{r['name']:8} {d['H']:>2} {d['G']:>2} {d['P']:>3} {d['N']:>3} {d['V_pad']:>5} {r['T']:>3} "
              f"{r['fp64_worst_rel']:>15.1e} {r['matrix_fp64']:>9.1e} {r['fp32_vs_fp64_logits']:>9.1e} "
              f"{r['decode_vs_forward_logits']:>9.1e} {r['sizes']['reference.safetensors'] / 1000:>9.1f}")


if __name__ == "__main__":
    main()
