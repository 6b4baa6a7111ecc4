#!/usr/bin/env python3
"""MOHAWK distillation fixtures (docs/distillation.md §"Losses and gradients"): a tiny Llama teacher, the Llamba student
the recipe starts from, and the three stage losses with every gradient, all in fp64. Writes
tests/fixtures/mohawk/tiny/:
  teacher/   transformers LlamaForCausalLM (save_pretrained: config.json + model.safetensors, fp32, eager attention):
             V 96, D 32, I 48, L 2, 4 query / 2 kv heads (GQA), head_dim 8, rms_norm_eps 1e-5, rope_theta 1e5,
             tied embeddings (SmolLM2-like); random weights, norm gains 1 + 0.2·randn.
  student/   cartesia-layout Llamba checkpoint (config.json + model.safetensors, fp32, as tests/fixtures/llamba/*) of
             the teacher's shape: H = G = 4, N 8, expand 1, conv 4, chunk_size 8, tied, V_pad 96. Embedding, both
             block norms, MLPs and final norm copied from the teacher (goombalab/mohawk configs/Llama/*/bases/
             load.yaml); mixer weights random and nonzero everywhere (z rows, z_bias, conv not identity, D not 1).
  reference.safetensors (save_canonical; every float tensor f64; B = 2, T = 12):
    tokens (B, T) i64
    teacher.hidden (L+1, B, T, D)       transformers' hidden_states stacked; [L] is after the final norm
    teacher.residual_last (B, T, D)     residual stream after the last layer, before the final norm
    teacher.attn (L, B, Hq, T, T)       attention probabilities (output_attentions)
    teacher.attn_out (L, B, T, D)       o_proj output of each layer, before its residual add
    teacher.logits (B, T, V)
    stage1.{layer_loss (L,), loss (), matrix.<l> (B, H, T, T), grad.<gguf name>, adamw_losses (10,)}
    stage2.{layer_loss, loss, grad.*, adamw_losses}    last layer's target = teacher.hidden[L] (final-normed)
    stage2r.{layer_loss, loss, grad.*}                 last layer's target = teacher.residual_last
    stage3.{loss, grad.*, adamw_losses} (τ = 1), stage3t2.{loss, grad.*} (τ = 2)
  grad.* only for parameters whose .grad is not None after the stage's backward (the stage's trainable set, listed
  in metadata <stage>.trainable); conv kernels as (Cc, K). AdamW: lr 1e-3, betas (0.9, 0.95), eps 1e-8, weight
  decay 0.1 where make_train_fixtures.decays holds (train::default_decay), over the stage's trainable set, teacher
  fixed, same batch every step.

Upstream reproduced: goombalab/mohawk @ 658fabd95056656abe30d4e50a360afea2afbdf9
  distill/distill_steps/matrices.py (stage 1), hstates.py (stage 2, hstates_gap 1), supervised.py (stage 3),
  components/cores/discrete_mamba2.py + discrete_mamba2_ref.py (materialize_mixer), components/blocks/LlamaBlock.py,
  components/MixerModels/LlamaModel.py (_layer_forward), components/LMHeads/LayeredMambaLM.py.
Our stage code runs on tools/reference/llamba_reference.py (student) and transformers (teacher, fp64 under
Fp64Casts extended to `dtype=torch.float32` arguments, so eager attention's softmax and hstates' torch.norm stay
fp64; RoPE inv_freq recomputed in fp64). Cross-checks the script asserts:
  - the upstream code itself, extracted from the mirror with `git archive` (two import shims: a stub
    GenerationMixin, and a stub rotary embedding, unused by DiscreteMamba2; use_ref_impl true = the CPU scan):
    matrices/hstates/supervised `distill_step` run with the student loaded into upstream's LMHeadModel, fp64;
    per-layer losses and every gradient (and the set of None gradients) equal ours. matrices.py only runs when T is
    a multiple of chunk_size (it pads, see `upstream.stage1_T12` in the metadata), so it is compared on a T = 16
    batch, and at T = 12 upstream's padded matrix is compared on its top-left T×T block;
  - materialized matrix times x == the chunked scan's y (before the gate), per layer;
  - fp64 autograd vs central differences on sampled coordinates of every stage loss;
  - every file < 1 MB; re-running gives byte-identical files.
Usage: MAMBA_SSM_SRC=/tmp/sd/mamba_ssm-2.3.2.post1 [MOHAWK_REPO=/work/.mirror/goombalab+mohawk/repo] \
       /opt/refenv/bin/python tools/reference/make_mohawk_fixtures.py [out_dir]
(MAMBA_SSM_SRC: see llamba_reference.py; only its ssd_minimal.py is read, sha256-checked; the state-spaces/mamba
tag v2.3.2.post1 has the same file: `git -C <mirror> archive v2.3.2.post1 mamba_ssm | tar -x -C $MAMBA_SSM_SRC`.)
About 7 s on one thread.
"""
import copy
import io
import json
import math
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import types
from types import SimpleNamespace

import einops
import numpy as np
import safetensors
import torch
import torch.nn as nn
import torch.nn.functional as F
import transformers
from einops import rearrange
from transformers import LlamaConfig, LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llamba_reference as ref  # noqa: E402
from fixture_io import adamw_losses, checked_sizes, save_canonical  # noqa: E402
from make_llamba_fixtures import config_json, scan_y  # noqa: E402
from make_train_fixtures import BETAS, EPS, LR, STEPS, WD, Fp64Casts, decays, llamba_gguf_name  # noqa: E402

FIXTURE_FORMAT = "1"
GENERATOR = "tools/reference/make_mohawk_fixtures.py"
OUT = "tests/fixtures/mohawk/tiny"
MOHAWK_COMMIT = "658fabd95056656abe30d4e50a360afea2afbdf9"
MOHAWK_REPO = os.environ.get("MOHAWK_REPO", "/work/.mirror/goombalab+mohawk/repo")
SEED = 5150
BATCH, T, T_UP = 2, 12, 16  # T_UP: the batch on which upstream matrices.py itself runs (a multiple of chunk_size)
TAUS = (1.0, 2.0)
MAX_FILE_BYTES = 1_000_000
DECAY_RULE = "p.dim() >= 2 and 'conv1d' not in name and 'norm' not in name"

SHAPE = dict(V=96, D=32, I=48, L=2, Hq=4, Hkv=2, hd=8, eps=1e-5, theta=100000.0,
             ssm=dict(d_state=8, n_v_heads=4, n_qk_heads=4, expand=1, chunk_size=8))


# ---------------------------------------------------------------------------------------------------------------------
# fp64 everywhere

def _has_f64(x):
    if isinstance(x, torch.Tensor):
        return x.dtype == torch.float64
    if isinstance(x, (list, tuple)):
        return any(_has_f64(y) for y in x)
    return False


class Fp64All(Fp64Casts):
    """Fp64Casts, plus: an explicit `dtype=torch.float32` argument of any call with an fp64 tensor argument becomes
    fp64 (eager attention's softmax(dtype=float32), hstates.py's torch.norm(dtype=float32)), and `.float()` of an
    integer tensor gives fp64 (RoPE's position_ids)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if kwargs.get("dtype") is torch.float32 and (_has_f64(args) or _has_f64(list(kwargs.values()))):
            kwargs["dtype"] = torch.float64
        if func is torch.Tensor.float and not args[0].is_floating_point():
            return args[0].double()
        return super().__torch_function__(func, types, args, kwargs)


def f64_rope(teacher):
    """Exact fp64 RoPE frequencies (transformers computes inv_freq in fp32 at init)."""
    hd, theta = SHAPE["hd"], SHAPE["theta"]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    rot = teacher.model.rotary_emb
    rot.inv_freq = inv.clone()
    if hasattr(rot, "original_inv_freq"):
        rot.original_inv_freq = inv.clone()


# ---------------------------------------------------------------------------------------------------------------------
# checkpoints

def make_teacher(d, gen):
    S = SHAPE
    cfg = LlamaConfig(vocab_size=S["V"], hidden_size=S["D"], intermediate_size=S["I"], num_hidden_layers=S["L"],
                      num_attention_heads=S["Hq"], num_key_value_heads=S["Hkv"], head_dim=S["hd"],
                      rms_norm_eps=S["eps"], rope_theta=S["theta"], max_position_embeddings=2048,
                      tie_word_embeddings=True, attn_implementation="eager")
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(cfg).float().eval()
    D, I = S["D"], S["I"]

    def randn(*shape, std=1.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * std

    # Embedding rows share a component along a unit vector e0 (as make_llamba_fixtures.init_params): every normed
    # hidden state then has u.e0 ~ kappa, which the student's a-rows use to spread the decays over the heads.
    e0 = randn(D)
    e0 = e0 / e0.norm()
    kappa = math.sqrt(D) / math.sqrt(2.0)
    new = {"model.embed_tokens.weight": 0.5 * (randn(S["V"], D) + math.sqrt(D) * e0)}
    for i in range(S["L"]):
        p = f"model.layers.{i}."
        new[p + "self_attn.q_proj.weight"] = randn(S["Hq"] * S["hd"], D, std=1.0 / math.sqrt(D))
        new[p + "self_attn.k_proj.weight"] = randn(S["Hkv"] * S["hd"], D, std=1.0 / math.sqrt(D))
        new[p + "self_attn.v_proj.weight"] = randn(S["Hkv"] * S["hd"], D, std=1.0 / math.sqrt(D))
        new[p + "self_attn.o_proj.weight"] = randn(D, S["Hq"] * S["hd"], std=0.7 / math.sqrt(S["Hq"] * S["hd"]))
        new[p + "mlp.gate_proj.weight"] = randn(I, D, std=1.0 / math.sqrt(D))
        new[p + "mlp.up_proj.weight"] = randn(I, D, std=1.0 / math.sqrt(D))
        new[p + "mlp.down_proj.weight"] = randn(D, I, std=0.5 / math.sqrt(I))
        new[p + "input_layernorm.weight"] = 1.0 + 0.2 * randn(D)
        new[p + "post_attention_layernorm.weight"] = 1.0 + 0.2 * randn(D)
    new["model.norm.weight"] = 1.0 + 0.2 * randn(D)
    with torch.no_grad():
        params = dict(model.named_parameters())
        assert sorted(params) == sorted(new), sorted(set(params) ^ set(new))
        for n, v in new.items():
            params[n].copy_(v)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # tied
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    gc = os.path.join(d, "generation_config.json")
    if os.path.exists(gc):
        os.remove(gc)
    return e0, kappa


def student_fx():
    S = SHAPE
    return dict(vocab_size=S["V"], tie_embeddings=True, pad_vocab_size_multiple=8, d_model=S["D"], n_layer=S["L"],
                norm_epsilon=S["eps"], intermediate_size=S["I"], ssm=dict(S["ssm"]))


def make_student(d, teacher_dir, gen, e0, kappa):
    """Shared parts copied from the saved teacher (MOHAWK load.yaml), mixers random."""
    from safetensors.torch import load_file
    cfg_dict = config_json(student_fx())
    model = ref.LlambaLMHeadModel(ref.LlambaConfig(**cfg_dict))
    assert model.config.padded_vocab_size == SHAPE["V"]
    t = load_file(os.path.join(teacher_dir, "model.safetensors"))
    D = SHAPE["D"]

    def randn(*shape, std=1.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * std

    sd = {"backbone.embedding.weight": t["model.embed_tokens.weight"],
          "backbone.final_layernorm.weight": t["model.norm.weight"]}
    for i, layer in enumerate(model.backbone.layers):
        mx = layer.mixer
        di, gn, H = mx.d_inner, mx.n_qk_heads * mx.d_state, mx.n_v_heads
        p, tp = f"backbone.layers.{i}.", f"model.layers.{i}."
        for n in ("input_layernorm.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight",
                  "mlp.up_proj.weight", "mlp.down_proj.weight"):
            sd[p + n] = t[tp + n]
        a_mean = torch.linspace(-3.0, 2.0, H)  # per-head a around a_mean: decays sigmoid(-a) from ~0.1 to ~0.95
        sd[p + "mixer.in_proj.weight"] = torch.cat([
            randn(di, D, std=1.0 / math.sqrt(D)),  # x
            randn(gn, D, std=0.6 / math.sqrt(D)),  # B
            randn(gn, D, std=0.6 / math.sqrt(D)),  # C
            randn(di, D, std=1.0 / math.sqrt(D)),  # z (nonzero: the MOHAWK init would zero it)
            a_mean[:, None] / kappa * e0[None, :] + randn(H, D, std=0.5 / math.sqrt(D)),  # a
        ])
        sd[p + "mixer.z_bias"] = 1.2785 + randn(di, std=0.2)
        conv_w = randn(mx.conv_dim, 1, mx.d_conv, std=0.3)
        conv_w[:, :, -1] += 0.7
        sd[p + "mixer.conv1d.weight"] = conv_w
        sd[p + "mixer.conv1d.bias"] = randn(mx.conv_dim, std=0.2)
        sd[p + "mixer.D"] = 1.0 + randn(H, std=0.5)
        sd[p + "mixer.out_proj.weight"] = randn(D, di, std=0.5 / math.sqrt(di))
    model.load_state_dict(sd, strict=True)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg_dict, f, indent=2)
        f.write("\n")
    save_canonical({k: v.contiguous() for k, v in sd.items()}, os.path.join(d, "model.safetensors"),
                   {"format": "pt"})


# ---------------------------------------------------------------------------------------------------------------------
# teacher taps

def teacher_taps(teacher, tokens):
    """fp64 teacher forward (no grad) with the taps of the fixture."""
    L = SHAPE["L"]
    attn_out, resid = {}, {}
    hooks = [teacher.model.layers[l].self_attn.register_forward_hook(
        lambda m, a, o, l=l: attn_out.__setitem__(l, o[0].detach())) for l in range(L)]
    hooks.append(teacher.model.layers[L - 1].register_forward_hook(
        lambda m, a, o: resid.__setitem__("last", (o[0] if isinstance(o, tuple) else o).detach())))
    with torch.no_grad(), Fp64All():
        out = teacher(input_ids=tokens, output_hidden_states=True, output_attentions=True, use_cache=False)
    for h in hooks:
        h.remove()
    hidden = torch.stack(out.hidden_states)
    attn = torch.stack(out.attentions)
    tp = {"hidden": hidden, "attn": attn, "attn_out": torch.stack([attn_out[l] for l in range(L)]),
          "residual_last": resid["last"], "logits": out.logits}
    for k, v in tp.items():
        assert v.dtype == torch.float64, (k, v.dtype)
    assert len(out.hidden_states) == L + 1 and len(out.attentions) == L
    # Which convention is hidden[L]?
    with torch.no_grad(), Fp64All():
        normed = teacher.model.norm(tp["residual_last"])
        # hidden[l+1] = hidden[l] + attn_out + mlp(post_norm(hidden[l] + attn_out)) for l < L-1, and for the last
        # layer the same sum is the residual stream: checks the attn_out and residual_last taps.
        block_err = 0.0
        for l in range(L):
            lay = teacher.model.layers[l]
            h = tp["hidden"][l] + tp["attn_out"][l]
            h = h + lay.mlp(lay.post_attention_layernorm(h))
            want = tp["hidden"][l + 1] if l < L - 1 else tp["residual_last"]
            block_err = max(block_err, (h - want).abs().max().item())
        logit_err = (normed @ teacher.model.embed_tokens.weight.t() - tp["logits"]).abs().max().item()
    d_norm = (tp["hidden"][L] - normed).abs().max().item()
    d_raw = (tp["hidden"][L] - tp["residual_last"]).abs().max().item()
    assert block_err < 1e-12 and logit_err < 1e-12, (block_err, logit_err)
    if d_norm < 1e-14 and d_raw > 1e-3:
        last = "final_normed"
    elif d_raw < 1e-14 and d_norm > 1e-3:
        last = "residual"
    else:
        raise AssertionError(("hidden[L] neither normed nor raw", d_norm, d_raw))
    # attention probabilities: causal rows summing to 1
    A = tp["attn"]
    assert (A.sum(-1) - 1).abs().max().item() < 1e-14
    assert A.triu(1).abs().max().item() == 0.0
    return tp, last, dict(block_err=block_err, logit_err=logit_err)


# ---------------------------------------------------------------------------------------------------------------------
# the three stages on our reference student (fp64)

def stage1_losses(model, hidden, attn):
    """matrices.py: per layer, the mixer matrix of student layer l on teacher hidden[l] (its input_layernorm
    inside) vs the teacher's attention probabilities; mean over (b, h) of the Frobenius norm (not squared)."""
    losses, mats = [], []
    for l, layer in enumerate(model.backbone.layers):
        M, _, _ = layer.mixer.materialize(layer.input_layernorm(hidden[l]))
        assert M.shape == attn[l].shape
        losses.append(torch.linalg.matrix_norm(M - attn[l], ord="fro").mean())
        mats.append(M)
    return losses, mats


def stage2_losses(model, hidden, targets):
    """hstates.py, hstates_gap 1: the full student block l on teacher hidden[l] vs targets[l]; mean over (b, t) of
    the L2 norm over D (not squared)."""
    return [torch.norm(layer(hidden[l]) - targets[l], p=2, dim=-1).mean()
            for l, layer in enumerate(model.backbone.layers)]


def stage3_loss(model, tokens, teacher_logits, tau):
    """supervised.py: cross_entropy(student_logits / tau, softmax(teacher_logits)) over B*T rows, mean."""
    V = teacher_logits.shape[-1]
    s = model(tokens).reshape(-1, V)
    return F.cross_entropy(s / tau, teacher_logits.reshape(-1, V).softmax(dim=-1))


def backward_grads(model, loss):
    for p in model.parameters():
        p.grad = None
    loss.backward()
    return {n: (None if p.grad is None else p.grad.detach().clone()) for n, p in model.named_parameters()}


def fd_check(model, loss_fn, grads, gen, per_tensor=2, h=1e-5):
    """Worst relative error of autograd vs central differences, `per_tensor` coordinates of each parameter with a
    gradient, drawn among those with |g| >= 0.05 max |g| (structural zeros are checked separately)."""
    worst = 0.0
    with torch.no_grad():
        for n, p in model.named_parameters():
            g = grads[n]
            if g is None:
                continue
            gf = g.reshape(-1)
            cand = torch.nonzero(gf.abs() >= 0.05 * gf.abs().max()).flatten()
            for _ in range(per_tensor):
                i = cand[torch.randint(0, len(cand), (1,), generator=gen).item()].item()
                flat = p.data.view(-1)
                old = flat[i].item()
                flat[i] = old + h
                lp = loss_fn().item()
                flat[i] = old - h
                lm = loss_fn().item()
                flat[i] = old
                fd = (lp - lm) / (2 * h)
                worst = max(worst, abs(fd - gf[i].item()) / abs(gf[i].item()))
    return worst


def grad_tensors(prefix, grads):
    out = {}
    for n, g in grads.items():
        if g is None:
            continue
        if n.endswith("conv1d.weight"):
            g = g.reshape(g.shape[0], g.shape[2])
        out[f"{prefix}.grad.{llamba_gguf_name(n)}"] = g.contiguous()
    return out


def trainable(grads):
    return [n for n, g in grads.items() if g is not None]


def gguf_list(names):
    return ",".join(llamba_gguf_name(n) for n in names)


def trajectory(student, names, loss_of):
    m = copy.deepcopy(student)
    named = [(n, p) for n, p in m.named_parameters() if n in names]
    return adamw_losses(named, lambda: loss_of(m), LR, BETAS, EPS, WD, STEPS, decays)


# ---------------------------------------------------------------------------------------------------------------------
# upstream goombalab/mohawk, run as is

class _NoRope(nn.Module):
    """Stands in for mohawk's external_models LlamaRotaryEmbedding, which does not build under transformers 5.17
    (ROPE_INIT_FUNCTIONS has no 'default'). LlamaModel passes its output to the mixer as position_embeddings, which
    DiscreteMamba2 ignores."""

    def __init__(self, config=None, device=None):
        super().__init__()

    def forward(self, x, position_ids):
        return None


class _Wrap:
    """The part of mohawk's BaseTrainingWrapper the distill steps use."""

    def __init__(self, model):
        self.module = model
        self.model = model

    def __call__(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    def backward(self, loss):
        loss.backward()


def load_mohawk(tmp):
    raw = subprocess.run(["git", "-C", MOHAWK_REPO, "archive", MOHAWK_COMMIT], check=True,
                         stdout=subprocess.PIPE).stdout
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        tf.extractall(tmp, filter="data")
    sys.path.insert(0, tmp)
    # generation/generation_mixin.py imports names transformers 5 removed; LMHeadModel only inherits the class.
    g = types.ModuleType("generation.generation_mixin")
    g.GenerationMixin = type("GenerationMixin", (), {})
    sys.modules["generation.generation_mixin"] = g
    # external_models/__init__.py imports a Falcon-Mamba file that needs transformers 4's MambaCache; LlamaModel
    # only needs external_models/modeling_llama.py, which imports fine: a package object without the __init__.
    pkg = types.ModuleType("external_models")
    pkg.__path__ = [os.path.join(tmp, "external_models")]
    sys.modules["external_models"] = pkg
    import components.MixerModels.LlamaModel as llama_model
    llama_model.LlamaRotaryEmbedding = _NoRope
    from components.LMHeads.LayeredMambaLM import LMHeadModel
    from components.cores import discrete_mamba2_ref
    from distill.distill_steps import hstates, matrices, supervised
    return SimpleNamespace(LMHeadModel=LMHeadModel, matrices=matrices, hstates=hstates, supervised=supervised,
                           materialize_mixer=discrete_mamba2_ref.materialize_mixer)


def mohawk_config():
    """The goombalab/mohawk component config of our student (configs/Llama/1B/bases/llama_mamba2.yaml with the
    tiny shape; use_ref_impl true: the pure-PyTorch SSD instead of mamba_ssm's Triton kernel)."""
    S = SHAPE
    layer = dict(S["ssm"], activation="identity", use_ref_impl=True, bias=False, norm_cls="none",
                 initializer={"a_log": "default", "x": "default", "B": "default", "C": "default", "D": "default",
                              "z": "identity", "out": "default", "convolution": "identity"})
    return {"input": {"vocab_size": S["V"], "tie_embeddings": True, "pad_vocab_size_multiple": 8,
                      "lm_head_bias": False},
            "MixerModel": {"name": "LlamaModel",
                           "input": {"d_model": S["D"], "n_layer": S["L"], "lm_head_prenorm": "rms",
                                     "norm_epsilon": S["eps"]},
                           "Blocks": [{"name": "LlamaBlock", "n_layers": S["L"],
                                       "input": {"resid_dropout": 0.0, "mlp_intermediate_size": S["I"],
                                                 "mlp_act_fn": "silu", "norm_epsilon": S["eps"]},
                                       "Layer": {"name": "DiscreteMamba2", "input": layer}}]}}


def rel(a, b):
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-300)


def compare_grads(up, ours, tol):
    """Same None set, and max relative difference of the rest."""
    assert set(up) == set(ours), sorted(set(up) ^ set(ours))
    worst = 0.0
    for n in ours:
        assert (up[n] is None) == (ours[n] is None), n
        if ours[n] is not None:
            worst = max(worst, rel(up[n], ours[n]))
    assert worst < tol, worst
    return worst


def upstream_checks(mh, student, teacher, tokens, tokens16, tp, ours):
    """Runs mohawk's own distill steps and compares with our stage code. Returns metadata entries."""
    res = {}
    up = mh.LMHeadModel(mohawk_config(), dtype=torch.float64)
    up.load_state_dict(student.state_dict(), strict=True)  # same parameter names as the cartesia layout
    sw, tw = _Wrap(up), _Wrap(teacher)
    L = SHAPE["L"]

    def up_grads():
        return {n: (None if p.grad is None else p.grad.detach().clone()) for n, p in up.named_parameters()}

    def zero():
        for p in up.parameters():
            p.grad = None

    with Fp64All():
        # stage 1 at the fixture's T: upstream pads u to a multiple of chunk_size and materializes the padded length
        zero()
        try:
            mh.matrices.distill_step({"input_ids": tokens}, sw, tw, None)
            raise AssertionError("upstream matrices.py unexpectedly accepted T % chunk_size != 0")
        except AssertionError as e:
            if "unexpectedly" in str(e):
                raise
        shapes = []
        worst_m = 0.0
        for l in range(L):
            up.forward_fn = "_layer_forward"
            o = up(layer_idx=l, hidden_states=tp["hidden"][l], run_mlp_component=False, return_mixer_matrix=True,
                   return_hidden_states=False)
            up.forward_fn = "_forward"
            Mu = o["transfer_matrix"]
            shapes.append(tuple(Mu.shape))
            worst_m = max(worst_m, rel(Mu[:, :, :T, :T], ours["stage1.matrix"][l]))
        assert worst_m < 1e-13, worst_m
        res["upstream.stage1_T12"] = (
            f"matrices.py asserts transfer_matrix {shapes[0]} == attention {tuple(tp['attn'][0].shape)} and fails: "
            f"DiscreteMamba2 zero-pads u to a multiple of chunk_size ({SHAPE['ssm']['chunk_size']}) and "
            f"materializes the padded length; its top-left TxT block equals our matrix to {worst_m:.1e} (relative)")

        # stage 1 at T_UP (a multiple of chunk_size): matrices.distill_step itself vs ours
        with torch.no_grad():
            t16 = teacher(input_ids=tokens16, output_hidden_states=True, output_attentions=True, use_cache=False)
        zero()
        scores = mh.matrices.distill_step({"input_ids": tokens16}, sw, tw, None)
        g_up = up_grads()
    h16, a16 = torch.stack(t16.hidden_states), torch.stack(t16.attentions)
    ls, _ = stage1_losses(student, h16, a16)
    g_ours = backward_grads(student, sum(ls))
    d_loss = max(abs(a - b.item()) / b.item() for a, b in zip(scores, ls))
    assert d_loss < 1e-13, d_loss
    res["upstream.stage1_T16"] = (f"matrices.distill_step on a (2, {T_UP}) batch: layer losses rel diff "
                                  f"{d_loss:.1e}, gradients {compare_grads(g_up, g_ours, 1e-12):.1e} (same None set)")

    with Fp64All():
        zero()
        scores = mh.hstates.distill_step({"input_ids": tokens}, sw, tw, None, hstates_gap=1)
        g_up = up_grads()
    d_loss = max(abs(a - b) / b for a, b in zip(scores, ours["stage2.layer_loss"]))
    assert d_loss < 1e-13, d_loss
    res["upstream.stage2"] = (f"hstates.distill_step (hstates_gap 1): layer losses rel diff {d_loss:.1e}, gradients "
                              f"{compare_grads(g_up, ours['stage2.grads'], 1e-12):.1e} (same None set); its last "
                              f"target is hidden_states[L] = {ours['last_target']}")

    cfg = SimpleNamespace(ComponentsConfig=SimpleNamespace(input=SimpleNamespace(vocab_size=SHAPE["V"])))
    for tau, key in zip(TAUS, ("stage3", "stage3t2")):
        with Fp64All():
            zero()
            (ppl,) = mh.supervised.distill_step({"input_ids": tokens}, sw, tw, cfg, temperature=tau)
            g_up = up_grads()
        # supervised.cross_entropy is torch.jit.script'ed: its .float() casts run in TorchScript, out of the
        # reach of Fp64All, so upstream's CE is computed in fp32 here.
        d_loss = abs(math.log(ppl) - ours[key + ".loss"]) / ours[key + ".loss"]
        assert d_loss < 1e-6, d_loss
        res[f"upstream.{key}"] = (f"supervised.distill_step (temperature {tau}): log(returned exp(CE)) rel diff "
                                  f"{d_loss:.1e}, gradients {compare_grads(g_up, ours[key + '.grads'], 1e-5):.1e} "
                                  f"(same None set; upstream's jit-scripted CE casts to fp32)")
    return res


# ---------------------------------------------------------------------------------------------------------------------

def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    out = sys.argv[1] if len(sys.argv) > 1 else OUT
    tdir, sdir = os.path.join(out, "teacher"), os.path.join(out, "student")
    gen = torch.Generator().manual_seed(SEED)
    e0, kappa = make_teacher(tdir, gen)
    make_student(sdir, tdir, gen, e0, kappa)
    V, L = SHAPE["V"], SHAPE["L"]
    tokens = torch.randint(0, V, (BATCH, T), generator=gen, dtype=torch.int64)
    tokens16 = torch.randint(0, V, (BATCH, T_UP), generator=gen, dtype=torch.int64)
    fd_gen = torch.Generator().manual_seed(SEED + 1)

    # everything below runs on what the files hold, upcast to fp64
    teacher = LlamaForCausalLM.from_pretrained(tdir, dtype=torch.float64, attn_implementation="eager").eval()
    assert teacher.config._attn_implementation == "eager"
    f64_rope(teacher)
    for p in teacher.parameters():
        p.requires_grad_(False)
    teacher32 = LlamaForCausalLM.from_pretrained(tdir, dtype=torch.float32, attn_implementation="eager").eval()
    student = ref.LlambaLMHeadModel.from_pretrained(sdir).double()
    tp, last_target, tcheck = teacher_taps(teacher, tokens)
    with torch.no_grad():
        t32 = teacher32(input_ids=tokens, use_cache=False).logits
    teacher_fp32_vs_fp64 = (t32.double() - tp["logits"]).abs().max().item()
    hidden, attn = tp["hidden"], tp["attn"]

    tensors = {"tokens": tokens, "teacher.hidden": hidden, "teacher.residual_last": tp["residual_last"],
               "teacher.attn": attn, "teacher.attn_out": tp["attn_out"], "teacher.logits": tp["logits"]}
    meta, ours = {}, {}

    # ---- stage 1 ----
    ls, mats = stage1_losses(student, hidden, attn)
    g1 = backward_grads(student, sum(ls))
    tensors["stage1.layer_loss"] = torch.stack([x.detach() for x in ls])
    tensors["stage1.loss"] = sum(ls).detach()
    for l in range(L):
        tensors[f"stage1.matrix.{l}"] = mats[l].detach()
    tensors.update(grad_tensors("stage1", g1))
    ours["stage1.matrix"] = [m.detach() for m in mats]
    tr1 = trainable(g1)
    none1 = [n for n in g1 if g1[n] is None]
    must_be_none = ("mixer.out_proj.weight", "mixer.z_bias", "post_attention_layernorm.weight", "mlp.gate_proj",
                    "mlp.up_proj", "mlp.down_proj", "backbone.embedding", "backbone.final_layernorm")
    for n in g1:
        assert (g1[n] is None) == any(s in n for s in must_be_none), n
    # structural zeros: x and z rows of in_proj, x channels of the conv (docs/distillation.md §"Losses and gradients")
    mx = student.backbone.layers[0].mixer
    di, gn = mx.d_inner, mx.n_qk_heads * mx.d_state
    for l in range(L):
        gi = g1[f"backbone.layers.{l}.mixer.in_proj.weight"]
        assert gi[:di].abs().max() == 0 and gi[di + 2 * gn:2 * di + 2 * gn].abs().max() == 0
        assert gi[di:di + 2 * gn].abs().max() > 0 and gi[2 * di + 2 * gn:].abs().max() > 0
        for k in ("weight", "bias"):
            gc = g1[f"backbone.layers.{l}.mixer.conv1d.{k}"]
            assert gc[:di].abs().max() == 0 and gc[di:].abs().max() > 0
    # M x == scan y (before the gate), and goombalab's materialize_mixer formula on the same B, C, a
    mat_scan = 0.0
    with torch.no_grad():
        for l, layer in enumerate(student.backbone.layers):
            u = layer.input_layernorm(hidden[l])
            M, x, _ = layer.mixer.materialize(u)
            y_scan = scan_y(layer.mixer, u, layer.mixer.chunk_size)
            mat_scan = max(mat_scan, rel(torch.einsum("bhts,bshp->bthp", M, x), y_scan))
    assert mat_scan < 1e-12, mat_scan

    # ---- stage 2 ----
    targets = {"stage2": [hidden[l + 1] for l in range(L)],
               "stage2r": [hidden[l + 1] for l in range(L - 1)] + [tp["residual_last"]]}
    for key, tg in targets.items():
        ls2 = stage2_losses(student, hidden, tg)
        g2 = backward_grads(student, sum(ls2))
        tensors[f"{key}.layer_loss"] = torch.stack([x.detach() for x in ls2])
        tensors[f"{key}.loss"] = sum(ls2).detach()
        tensors.update(grad_tensors(key, g2))
        ours[f"{key}.grads"], ours[f"{key}.layer_loss"] = g2, [x.item() for x in ls2]
        meta[f"{key}.trainable"] = gguf_list(trainable(g2))

    # ---- stage 3 ----
    for tau, key in zip(TAUS, ("stage3", "stage3t2")):
        l3 = stage3_loss(student, tokens, tp["logits"], tau)
        g3 = backward_grads(student, l3)
        tensors[f"{key}.loss"] = l3.detach()
        tensors.update(grad_tensors(key, g3))
        ours[f"{key}.grads"], ours[f"{key}.loss"] = g3, l3.item()
        meta[f"{key}.trainable"] = gguf_list(trainable(g3))
        assert all(g is not None for g in g3.values())

    # ---- central differences ----
    fd = {
        "stage1": fd_check(student, lambda: sum(stage1_losses(student, hidden, attn)[0]), g1, fd_gen),
        "stage2": fd_check(student, lambda: sum(stage2_losses(student, hidden, targets["stage2"])),
                           ours["stage2.grads"], fd_gen),
        "stage2r": fd_check(student, lambda: sum(stage2_losses(student, hidden, targets["stage2r"])),
                            ours["stage2r.grads"], fd_gen),
        "stage3": fd_check(student, lambda: stage3_loss(student, tokens, tp["logits"], 1.0),
                           ours["stage3.grads"], fd_gen),
        "stage3t2": fd_check(student, lambda: stage3_loss(student, tokens, tp["logits"], 2.0),
                             ours["stage3t2.grads"], fd_gen),
    }
    for k, v in fd.items():
        assert v < 1e-6, (k, v)

    # ---- AdamW trajectories (stage 1, stage 2 normed convention, stage 3 tau 1) ----
    traj = {
        "stage1": trajectory(student, tr1, lambda m: sum(stage1_losses(m, hidden, attn)[0])),
        "stage2": trajectory(student, trainable(ours["stage2.grads"]),
                             lambda m: sum(stage2_losses(m, hidden, targets["stage2"]))),
        "stage3": trajectory(student, trainable(ours["stage3.grads"]),
                             lambda m: stage3_loss(m, tokens, tp["logits"], 1.0)),
    }
    for k, v in traj.items():
        tensors[f"{k}.adamw_losses"] = torch.tensor(v, dtype=torch.float64)
        assert abs(v[0] - tensors[f"{k}.loss"].item()) < 1e-12 * v[0] and v[-1] < v[0], (k, v)

    # ---- upstream goombalab/mohawk ----
    ours["last_target"] = last_target
    with tempfile.TemporaryDirectory() as tmp:
        mh = load_mohawk(tmp)
        # goombalab's materialize_mixer on the padded B, C, a of its own forward is compared in upstream_checks;
        # here the formula itself on our unpadded B, C, a
        form = 0.0
        with torch.no_grad():
            for l, layer in enumerate(student.backbone.layers):
                mxl = layer.mixer
                u = layer.input_layernorm(hidden[l])
                xBC, _, a = mxl.split_proj(mxl.in_proj(u))
                _, Bm, Cm = mxl.split_xbc(mxl.conv_forward(xBC, T))
                Bm = rearrange(Bm, "b l (h n) -> b l h n", h=mxl.n_qk_heads)
                Cm = rearrange(Cm, "b l (h n) -> b l h n", h=mxl.n_qk_heads)
                Mg = mh.materialize_mixer(A_log=a, B=Bm, C=Cm, D=mxl.D)
                form = max(form, rel(Mg, ours["stage1.matrix"][l]))
        assert form < 1e-14, form
        up = upstream_checks(mh, student, teacher, tokens, tokens16, tp, ours)
    for p in student.parameters():
        p.grad = None

    # ---- write ----
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    for k, v in tensors.items():
        assert v.dtype == (torch.int64 if k == "tokens" else torch.float64), k
    S = SHAPE
    decayed = [n for n, p in student.named_parameters() if decays(n, p)]
    meta.update({
        "fixture_format": FIXTURE_FORMAT,
        "generator": GENERATOR,
        "upstream": f"goombalab/mohawk@{MOHAWK_COMMIT}",
        "stage1.upstream": "distill/distill_steps/matrices.py: sum over layers of "
                           "torch.linalg.matrix_norm(M_l - A_l, ord='fro').mean(); M_l = student layer l "
                           "(input_layernorm + mixer, run_mlp_component=False, return_mixer_matrix=True) on "
                           "teacher hidden[l]; A_l = teacher attentions[l]",
        "stage2.upstream": "distill/distill_steps/hstates.py, hstates_gap 1: sum over layers of "
                           "torch.norm(block_l(hidden[l]) - hidden[l+1], p=2, dim=-1).mean()",
        "stage2r.upstream": "stage2 with the last layer's target = teacher.residual_last instead of hidden[L] "
                            "(not what upstream does; for a trainer that targets the raw residual)",
        "stage3.upstream": "distill/distill_steps/supervised.py: F.cross_entropy(student_logits / tau, "
                           "softmax(teacher_logits)) over B*T rows (mean), tau = 1",
        "stage3t2.upstream": "as stage3 with tau = 2 (teacher logits not divided by tau)",
        "stage1.trainable": gguf_list(tr1),
        "stage1.grad_none": gguf_list(none1),
        "stage1.structural_zero_grad": "x rows [0, d_inner) and z rows [d_inner + 2GN, 2 d_inner + 2GN) of "
                                       "ssm_in.weight, x channels [0, d_inner) of ssm_conv1d.weight/.bias: exactly 0",
        "stage2.last_target": last_target,
        "stage2r.last_target": "residual",
        "teacher.hidden": "transformers hidden_states: [0] = embedding output, [l] = input of layer l, [L] = "
                          + ("model.norm(residual after the last layer) (capture_outputs tie_last_hidden_states)"
                             if last_target == "final_normed" else "residual after the last layer"),
        "teacher.residual_last": "output of the last decoder layer (forward hook), before model.norm",
        "teacher.attn_out": "self_attn output (after o_proj, before the residual add), forward hook",
        "teacher.attn": "eager attention probabilities (output_attentions), (L, B, Hq, T, T)",
        "teacher": "teacher/: transformers LlamaForCausalLM save_pretrained, fp32, eager attention",
        "student": "student/: cartesia Llamba layout, fp32; embedding, input/post_attention layernorms, MLPs, "
                   "final norm = teacher's; mixers random",
        "dtype": "float64 (fp32-saved weights upcast)",
        "teacher_fp64": "transformers under Fp64All (Fp64Casts + dtype=float32 arguments kept fp64: eager softmax); "
                        "RoPE inv_freq recomputed in fp64",
        "teacher_fp32_vs_fp64_logits_maxabs": f"{teacher_fp32_vs_fp64:.3e}",
        "student_forward": "tools/reference/llamba_reference.py (fp64): stage 1 DiscreteMamba2.materialize, stage 2 "
                           "Block.forward (chunked scan, chunk_size 8, exact padding), stage 3 full model",
        "chunk_padding": f"T = {T} is not a multiple of chunk_size {S['ssm']['chunk_size']}: see upstream.stage1_T12; "
                         "the stage-1 matrix here is the unpadded TxT one (= upstream's top-left block, causal)",
        "grad_names": "GGUF names (make_train_fixtures.llamba_gguf_name); ssm_conv1d.weight as (Cc, K)",
        "B": str(BATCH), "T": str(T), "taus": ",".join(str(t) for t in TAUS), "seed": str(SEED),
        "lr": str(LR), "betas": str(BETAS), "eps": str(EPS), "weight_decay": str(WD), "adamw_steps": str(STEPS),
        "decay_rule": DECAY_RULE,
        "adamw": "torch.optim.AdamW over the stage's trainable set only (grad-None parameters get no update and no "
                 "decay), same batch every step, teacher fixed; adamw_losses[k] = loss before step k",
        "adamw.decayed": gguf_list(decayed),
        "fd_check_worst_rel": json.dumps({k: f"{v:.1e}" for k, v in fd.items()}),
        "matrix_vs_scan_rel": f"{mat_scan:.1e}",
        "matrix_vs_goombalab_materialize_mixer_rel": f"{form:.1e}",
        "teacher_taps_check": f"block recomposition {tcheck['block_err']:.1e}, logits {tcheck['logit_err']:.1e}",
        "dims": json.dumps({"V": S["V"], "V_pad": S["V"], "D": S["D"], "L": S["L"], "I": S["I"], "Hq": S["Hq"],
                            "Hkv": S["Hkv"], "head_dim": S["hd"], "H": S["ssm"]["n_v_heads"],
                            "G": S["ssm"]["n_qk_heads"], "N": S["ssm"]["d_state"], "P": di // S["ssm"]["n_v_heads"],
                            "K": 4, "Cc": di + 2 * gn, "d_inner": di, "chunk_size": S["ssm"]["chunk_size"]}),
        "torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__,
        "safetensors": safetensors.__version__, "einops": einops.__version__, "python": platform.python_version(),
        "mamba_ssm": ref.MAMBA_SSM_VERSION + " (mamba_ssm/modules/ssd_minimal.py)",
        "ssd_minimal_sha256": ref.SSD_MINIMAL_SHA256,
        "torch_threads": "1",
    })
    meta.update(up)
    save_canonical(tensors, os.path.join(out, "reference.safetensors"), meta)
    sizes = {}
    for sub in ("", "teacher", "student"):
        d = os.path.join(out, sub)
        for f, n in checked_sizes(d, MAX_FILE_BYTES).items():
            if os.path.isfile(os.path.join(d, f)):
                sizes[os.path.join(sub, f)] = n

    # ---- summary ----
    print(f"{out}: {sizes}")
    print(f"teacher hidden[L] = {last_target}; fp32 vs fp64 logits {teacher_fp32_vs_fp64:.1e}")
    for k in ("stage1", "stage2", "stage2r"):
        print(f"{k}: layer losses {[round(x, 6) for x in tensors[k + '.layer_loss'].tolist()]} "
              f"total {tensors[k + '.loss'].item():.6f}")
    for k in ("stage3", "stage3t2"):
        print(f"{k}: loss {tensors[k + '.loss'].item():.6f}")
    for k, v in traj.items():
        print(f"{k} adamw: {[round(x, 6) for x in v]}")
    print("stage1 trainable:", meta["stage1.trainable"])
    print("stage1 grad None:", meta["stage1.grad_none"])
    print("stage2 trainable:", meta["stage2.trainable"])
    print("fd worst rel:", meta["fd_check_worst_rel"], "| M x vs scan", meta["matrix_vs_scan_rel"],
          "| vs materialize_mixer", meta["matrix_vs_goombalab_materialize_mixer_rel"])
    with torch.no_grad():
        dec = []
        for l, layer in enumerate(student.backbone.layers):
            _, _, a = layer.mixer.split_proj(layer.mixer.in_proj(layer.input_layernorm(hidden[l])))
            dec.append(torch.exp(-F.softplus(a)).flatten())
        dec = torch.cat(dec)
    print(f"decays min {dec.min().item():.3f} max {dec.max().item():.3f}; |M| max "
          f"{max(m.abs().max().item() for m in ours['stage1.matrix']):.2f}; attn max {attn.max().item():.3f}")
    assert dec.min().item() > 0.01 and dec.max().item() < 0.999
    for k, v in up.items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
