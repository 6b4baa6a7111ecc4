#!/usr/bin/env python3
"""GateLoop family of the training-parity fixtures (called by make_train_fixtures.py; see its docstring for the file
layout). Two sources, both in fp64:

  lucidrains  the package's `gateloop_transformer.Transformer` (gateloop-transformer==0.2.5) on a checkpoint of
              tests/fixtures/gateloop/<name>, with its default frac_gradient_state_transition = 0.9 (the gradient
              into to_a scaled by 0.9; our converter keeps it as gateloop.transition_grad_scale), activation
              checkpointing off (the same math). Gradients are mapped to our GGUF names as `llamba convert`
              writes them: to_qkv split in three, to_a's re/im rows de-interleaved to [re | im].
  ours        a small re-implementation of our model (src/models/gateloop/, docs/gguf-keys.md) for the variants
              the package lacks (magphase, real, fixed transitions; vector gates; swiglu FFN; tied head; no out
              projection): parameters keyed by GGUF names, the recurrence as a plain complex128 loop. It is checked
              first against the package: run on a lucidrains checkpoint with the polar transition, its loss and
              every gradient must equal the package's to 1e-10 (relative to each tensor's max). The fixture stores
              the initial parameters (param.<gguf name>, f32-representable values) and the model's
              `llamba train --config` JSON (metadata init_config); the test builds the model from that JSON
              (write_init) and overwrites every parameter with param.*.
"""
import copy
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_io import adamw_losses

# Fixtures: (name, seed) of lucidrains checkpoints, and (name, seed, model JSON) of our variants. Together with the
# central-difference test (tests/train/test_gateloop_backward.cpp) they reach every Config option. The lucidrains
# ones train with the default recurrent mode; magphase_vec and fixed_heads select the chunked one (several chunks).
LUCIDRAINS = [("heads4", 41),        # polar complex, 4 heads of 8, swish gate
              ("sub_ln_inner", 42)]  # sub-LN, d_inner 48 != D 32, 6 heads, 3 layers, ff_mult 2
OURS = [
    # magphase complex with vector gates (GLA-style, the notebook's form), sub-LN, swiglu FFN, tied head.
    ("magphase_vec", 44, {"d_model": 24, "n_layers": 2, "ffn": 48, "d_inner": 32, "n_heads": 4,
                          "transition": "magphase", "complex": True, "gate_kind": "vector", "sub_norm": True,
                          "ffn_activation": "swiglu", "chunk_size": 16, "tied": True, "train_recurrence": "chunked"}),
    # real gates, max-headed (P = N = 1), no output gate, no out projection, gelu FFN, transition_grad_scale 0.5.
    ("real_maxheads", 45, {"d_model": 24, "n_layers": 2, "ffn": 64, "d_inner": 24, "n_heads": 24,
                           "transition": "real", "complex": False, "gate_kind": "scalar", "output_gate": False,
                           "out_proj": False, "ffn_activation": "gelu", "chunk_size": 16,
                           "transition_grad_scale": 0.5}),
    # fixed (input-independent) complex transition, 6 heads of 4.
    ("fixed_heads", 46, {"d_model": 24, "n_layers": 2, "ffn": 48, "d_inner": 24, "n_heads": 6,
                         "transition": "fixed", "complex": True, "gate_kind": "scalar", "chunk_size": 16,
                         "train_recurrence": "chunked"}),
]


# ---------------------------------------------------------------------------------------------------------------------
# Decay rule: the optimizer groups of the reference (PyTorch names) must match our train::default_decay on the
# converted names.

def ours_decays(gguf_name, shape):
    """train::default_decay (src/train/params.cpp): matrices decay, except conv kernels and norm weights."""
    return len(shape) >= 2 and "conv1d" not in gguf_name and "norm" not in gguf_name


# ---------------------------------------------------------------------------------------------------------------------
# lucidrains -> GGUF names

def lucidrains_to_gguf(sd, kw):
    """{lucidrains name: tensor} -> {gguf name: tensor} as `llamba convert` maps them (hf_names.cpp). A name of a
    tensor the converter drops (to_a's im rows under ablate_complex) maps to the rows it keeps."""
    out = {}
    D = kw["dim"]
    di = kw.get("dim_gate_looped_attn") or D
    complex_ = not kw.get("ablate_complex", False)
    gate = kw.get("attn_add_swish_gating", True)
    for n, t in sd.items():
        if n == "token_emb.weight":
            out["token_embd.weight"] = t
            continue
        if n == "to_logits.0.gamma":
            out["output_norm.weight"] = t
            continue
        if n == "to_logits.1.weight":
            out["output.weight"] = t
            continue
        p = n.split(".")
        l, rest = int(p[1]), ".".join(p[2:])
        b = f"blk.{l}."
        if rest == "0.fn.to_qkv.weight":
            out[b + "gl_q.weight"], out[b + "gl_k.weight"], out[b + "gl_v.weight"] = t[:di], t[di:2 * di], t[2 * di:]
        elif rest in ("0.fn.to_a.0.weight", "0.fn.to_a.0.bias"):
            rows = [t[0::2]] + ([t[1::2]] if complex_ else [])
            out[b + "gl_a." + rest.split(".")[-1]] = torch.cat(rows, dim=0)
        else:
            table = {"0.norm.gamma": "attn_norm.weight", "0.fn.maybe_sub_ln.weight": "gl_sub_norm.weight",
                     "0.fn.maybe_sub_ln.bias": "gl_sub_norm.bias", "0.fn.to_gates.0.weight": "gl_g.weight",
                     "0.fn.to_out.weight": "gl_out.weight", "1.norm.gamma": "ffn_norm.weight",
                     "1.fn.0.weight": "ffn_up.weight", "1.fn.0.bias": "ffn_up.bias",
                     "1.fn.2.weight": "ffn_down.weight", "1.fn.2.bias": "ffn_down.bias"}
            if rest == "0.fn.to_out.weight" and not (gate or di != D):
                raise ValueError("to_out is an Identity without gate and with dim_inner = dim")
            out[b + table[rest]] = t
    return out


def load_lucidrains(fixture_dir):
    from gateloop_transformer import Transformer
    import safetensors.torch
    with open(os.path.join(fixture_dir, "config.json")) as f:
        cfg = json.load(f)
    kw = {k: v for k, v in cfg.items() if k not in ("model_type", "source")}
    model = Transformer(**kw)
    model.load_state_dict(safetensors.torch.load_file(os.path.join(fixture_dir, "model.safetensors")))
    model = model.double().train()
    for attn, _ in model.layers:
        attn.fn.checkpoint_gate_looped_attn = False  # activation checkpointing only: the same gradients
    return model, kw


def lucidrains_config(kw):
    """Our Config (as the re-implementation below reads it) for a lucidrains Transformer."""
    D = kw["dim"]
    di = kw.get("dim_gate_looped_attn") or D
    gate = kw.get("attn_add_swish_gating", True)
    return dict(d_model=D, n_layers=kw["depth"], ffn=D * kw.get("ff_mult", 4), d_inner=di,
                n_heads=kw.get("gate_loop_heads") or di, transition="polar",
                complex=not kw.get("ablate_complex", False), gate_kind="scalar", output_gate=gate,
                sub_norm=kw.get("sub_ln", False), out_proj=gate or di != D, ffn_activation="gelu",
                norm_eps=1e-24 / D, sub_norm_eps=1e-5, tied=False,
                transition_grad_scale=kw.get("frac_gradient_state_transition", 0.9))


# ---------------------------------------------------------------------------------------------------------------------
# The re-implementation (fp64): parameters keyed by GGUF name, our Config as a dict (init.cpp's JSON keys).

def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def transition(c, z):
    """z (B, T, A) -> complex a (B, T, Hg): gateloop.h `Transition`, transition.h."""
    hg = c["d_inner"] if c["gate_kind"] == "vector" else c["n_heads"]
    two = c["complex"] and c["transition"] != "real"
    first, second = z[..., :hg], (z[..., hg:] if two else torch.zeros_like(z[..., :hg]))
    if c["transition"] == "polar":
        zc = torch.complex(first, second)
        return torch.polar(zc.abs().sigmoid(), zc.angle())
    return torch.polar(first.sigmoid(), second)  # magphase, real (phase 0), fixed (z = bias)


def mixer(P, c, l, u):
    b = f"blk.{l}."
    B, T, _ = u.shape
    di, H = c["d_inner"], c["n_heads"]
    Pd = di // H
    q, k, v = (u @ P[b + n].T for n in ("gl_q.weight", "gl_k.weight", "gl_v.weight"))
    if c["transition"] == "fixed":
        z = P[b + "gl_a.bias"].expand(B, T, -1)
    else:
        z = u @ P[b + "gl_a.weight"].T + P[b + "gl_a.bias"]
    f = c.get("transition_grad_scale", 1.0)
    z = z * f + z.detach() * (1 - f)  # the gradient into z scaled by f (lucidrains' frac_gradient_state_transition)
    a = transition(c, z)
    a = a.reshape(B, T, H, Pd) if c["gate_kind"] == "vector" else a.reshape(B, T, H, 1)
    q, k, v = (t.reshape(B, T, H, Pd) for t in (q, k, v))
    # State S (B, H, P value, N key), S_t = a_t ⊙ S_{t-1} + v_t k_tᵀ (a broadcast over the value axis), y = Re(S) q.
    S = torch.zeros(B, H, Pd, Pd, dtype=torch.complex128)
    ys = []
    for t in range(T):
        S = a[:, t, :, None, :] * S + (v[:, t, :, :, None] * k[:, t, :, None, :]).to(torch.complex128)
        ys.append(torch.einsum("bhpn,bhn->bhp", S.real, q[:, t]))
    y = torch.stack(ys, dim=1).reshape(B, T, di)
    if c["sub_norm"]:
        y = F.layer_norm(y, (di,), P[b + "gl_sub_norm.weight"], P.get(b + "gl_sub_norm.bias"), c["sub_norm_eps"])
    if c["output_gate"]:
        y = y * F.silu(u @ P[b + "gl_g.weight"].T)
    return y @ P[b + "gl_out.weight"].T if c["out_proj"] else y


def ffn(P, c, l, u):
    b = f"blk.{l}."
    if c["ffn_activation"] == "swiglu":
        return (F.silu(u @ P[b + "ffn_gate.weight"].T) * (u @ P[b + "ffn_up.weight"].T)) @ P[b + "ffn_down.weight"].T
    return F.gelu(u @ P[b + "ffn_up.weight"].T + P[b + "ffn_up.bias"]) @ P[b + "ffn_down.weight"].T + P[b + "ffn_down.bias"]


def forward(P, c, tokens):
    eps = c["norm_eps"]
    h = P["token_embd.weight"][tokens]
    for l in range(c["n_layers"]):
        h = h + mixer(P, c, l, rmsnorm(h, P[f"blk.{l}.attn_norm.weight"], eps))
        h = h + ffn(P, c, l, rmsnorm(h, P[f"blk.{l}.ffn_norm.weight"], eps))
    head = P["token_embd.weight"] if c["tied"] else P["output.weight"]
    return rmsnorm(h, P["output_norm.weight"], eps) @ head.T


def param_shapes(c, V):
    """Every tensor of our model for Config c, in for_each order (weights.cpp), with its shape."""
    D, L, Fw, di, H = c["d_model"], c["n_layers"], c["ffn"], c["d_inner"], c["n_heads"]
    hg = di if c["gate_kind"] == "vector" else H
    A = hg * (2 if c["complex"] and c["transition"] != "real" else 1)
    s = {"token_embd.weight": (V, D)}
    for l in range(L):
        b = f"blk.{l}."
        s[b + "attn_norm.weight"] = (D,)
        for n in ("gl_q.weight", "gl_k.weight", "gl_v.weight"):
            s[b + n] = (di, D)
        if c["transition"] != "fixed":
            s[b + "gl_a.weight"] = (A, D)
        s[b + "gl_a.bias"] = (A,)
        if c["sub_norm"]:
            s[b + "gl_sub_norm.weight"], s[b + "gl_sub_norm.bias"] = (di,), (di,)
        if c["output_gate"]:
            s[b + "gl_g.weight"] = (di, D)
        if c["out_proj"]:
            s[b + "gl_out.weight"] = (D, di)
        s[b + "ffn_norm.weight"] = (D,)
        if c["ffn_activation"] == "swiglu":
            s[b + "ffn_gate.weight"] = (Fw, D)
        s[b + "ffn_up.weight"] = (Fw, D)
        if c["ffn_activation"] == "gelu":
            s[b + "ffn_up.bias"] = (Fw,)
        s[b + "ffn_down.weight"] = (D, Fw)
        if c["ffn_activation"] == "gelu":
            s[b + "ffn_down.bias"] = (D,)
    s["output_norm.weight"] = (D,)
    if not c["tied"]:
        s["output.weight"] = (V, D)
    return s, hg


def random_params(c, V, seed):
    """PyTorch-default-like values (f32-representable): Linear U(±1/√in), embedding N(0, 1) (0.3 tied), norm gains 1 ± 0.15,
    sub-LN bias N(0, 0.1); transition biases spread like tests/models/tiny_gateloop.h (magnitude logits −1..7,
    phases sin(1.7 j)) so the decays cover (0.27, 0.999)."""
    g = torch.Generator().manual_seed(seed)
    shapes, hg = param_shapes(c, V)
    P = {}
    for n, s in shapes.items():
        if n == "token_embd.weight":  # N(0, 1), or N(0, 0.3²) when it is also the head (logits of O(1))
            t = torch.randn(*s, generator=g) * (0.3 if c["tied"] else 1.0)
        elif "norm.weight" in n:
            t = 1.0 + 0.15 * torch.randn(*s, generator=g)
        elif n.endswith("gl_sub_norm.bias"):
            t = 0.1 * torch.randn(*s, generator=g)
        elif n.endswith("gl_a.bias"):
            j = torch.arange(hg, dtype=torch.float64)
            m = -1.0 + 8.0 * j / max(hg - 1, 1)
            t = torch.cat([m, torch.sin(1.7 * j)] if s[0] == 2 * hg else [m])
        else:
            fan_in = s[-1] if len(s) == 2 else (c["ffn"] if "ffn_down" in n else c["d_model"])
            t = (torch.rand(*s, generator=g) * 2 - 1) / math.sqrt(fan_in)
        P[n] = t.float().double()
    return P


# ---------------------------------------------------------------------------------------------------------------------
# One step + AdamW trajectory

def ce(logits, tokens):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def rel_max(a, b):
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-300)


def check_reimplementation(model, kw, tokens):
    """The re-implementation on the package's weights (polar) against the package: loss and every gradient."""
    m = copy.deepcopy(model)
    loss = ce(m(tokens[:, :-1]), tokens)
    loss.backward()
    ref = lucidrains_to_gguf({n: p.grad for n, p in m.named_parameters()}, kw)
    P = {n: t.detach().clone().requires_grad_(True)
         for n, t in lucidrains_to_gguf(dict(model.named_parameters()), kw).items()}
    mine = ce(forward(P, lucidrains_config(kw), tokens[:, :-1]), tokens)
    mine.backward()
    worst = abs(mine.item() - loss.item()) / abs(loss.item())
    for n, g in ref.items():
        worst = max(worst, rel_max(P[n].grad, g))
    assert worst < 1e-10, worst
    return worst


def make_lucidrains(name, seed, hp, decays, B=2, T=100):
    """Fixture gateloop_<name> from tests/fixtures/gateloop/<name>. T = 100: two of the converter's 64-step chunks."""
    lr, betas, eps, wd, steps = hp
    model, kw = load_lucidrains(os.path.join("tests/fixtures/gateloop", name))
    V = kw["num_tokens"]
    tokens = torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(seed))
    cross = check_reimplementation(model, kw, tokens)
    m1 = copy.deepcopy(model)
    loss = ce(m1(tokens[:, :-1]), tokens)
    loss.backward()
    grads = lucidrains_to_gguf({n: p.grad for n, p in m1.named_parameters()}, kw)
    # The PyTorch optimizer groups (package names) must be the groups our trainer forms on the converted names.
    for n, p in m1.named_parameters():
        mapped = lucidrains_to_gguf({n: p.detach()}, kw)
        for gn, t in mapped.items():
            assert decays(n, p) == ours_decays(gn, tuple(t.shape)), (n, gn)
    m2 = copy.deepcopy(model)
    losses = adamw_losses(list(m2.named_parameters()), lambda: ce(m2(tokens[:, :-1]), tokens), lr, betas, eps, wd,
                          steps, decays)
    tensors = {"tokens": tokens.numpy().astype(np.int64), "loss": np.array(loss.item(), dtype=np.float64)}
    for n, g in grads.items():
        tensors["grad." + n] = g.detach().numpy().astype(np.float64).copy()
    tensors["adamw_losses"] = np.array(losses, dtype=np.float64)
    meta = {"family": "gateloop", "checkpoint": f"tests/fixtures/gateloop/{name}",
            "upstream": "gateloop-transformer 0.2.5 Transformer, fp64, checkpoint_gate_looped_attn off",
            "frac_gradient_state_transition": str(model.layers[0][0].fn.frac_gradient_state_transition),
            "reimplementation_vs_package": f"{cross:.2e}"}
    return tensors, meta, loss.item(), losses


def make_ours(name, cfg, seed, hp, V=48, B=2, T=40):
    """Fixture gateloop_<name> of the re-implementation for the `llamba train --config` model JSON `cfg`."""
    lr, betas, eps, wd, steps = hp
    # init.cpp's defaults for the keys the JSON leaves out (sub_norm_eps is not a JSON key: Config's 1e-5).
    c = {"sub_norm": False, "output_gate": True, "out_proj": True, "tied": False, "norm_eps": 1e-5, "ffn_activation": "gelu",
         "transition_grad_scale": 1.0, "sub_norm_eps": 1e-5, **cfg}
    P0 = random_params(c, V, seed)
    tokens = torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(seed))
    P = {n: t.clone().requires_grad_(True) for n, t in P0.items()}
    loss = ce(forward(P, c, tokens[:, :-1]), tokens)
    loss.backward()
    P2 = {n: t.clone().requires_grad_(True) for n, t in P0.items()}
    losses = adamw_losses(list(P2.items()), lambda: ce(forward(P2, c, tokens[:, :-1]), tokens), lr, betas, eps, wd,
                          steps, lambda n, p: ours_decays(n, tuple(p.shape)))
    tensors = {"tokens": tokens.numpy().astype(np.int64), "loss": np.array(loss.item(), dtype=np.float64),
               "adamw_losses": np.array(losses, dtype=np.float64)}
    for n, p in P.items():
        tensors["grad." + n] = p.grad.numpy().astype(np.float64).copy()
        tensors["param." + n] = P0[n].numpy().astype(np.float64).copy()
    meta = {"family": "gateloop", "checkpoint": "none: param.* with init_config",
            "upstream": "re-implementation in tools/reference/gateloop_train_reference.py (checked against "
                        "gateloop-transformer 0.2.5 on the polar fixtures)",
            "arch": "gateloop", "init_config": json.dumps(cfg, sort_keys=True)}
    return tensors, meta, loss.item(), losses


def write_fixtures(out_dir, hp, decays, base_meta, save):
    """Writes gateloop_<name>.safetensors for LUCIDRAINS and OURS; `save(tensors, path, meta)` writes canonically."""
    torch.use_deterministic_algorithms(True)
    jobs = [(n, lambda n=n, s=s: make_lucidrains(n, s, hp, decays)) for n, s in LUCIDRAINS]
    jobs += [(n, lambda n=n, s=s, c=c: make_ours(n, c, s, hp)) for n, s, c in OURS]
    for name, job in jobs:
        tensors, meta, loss, losses = job()
        path = os.path.join(out_dir, f"gateloop_{name}.safetensors")
        save({k: torch.from_numpy(v) for k, v in tensors.items()}, path, {**base_meta, **meta})
        assert os.path.getsize(path) < 1_000_000, path
        print(path, os.path.getsize(path), "loss", loss, meta.get("reimplementation_vs_package", ""), "trajectory",
              [round(x, 6) for x in losses])
