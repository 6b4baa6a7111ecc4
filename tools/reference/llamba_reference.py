#!/usr/bin/env python3
"""Pure-PyTorch reference of cartesia-pytorch's Llamba (`LlambaLMHeadModel`): forward (prefill) and step (decode).

Why a re-implementation: `cartesia-pytorch==0.0.2` on PyPI is empty (0.0.1 holds only "Rene"), and the official
Llamba code needs mamba_ssm's Triton kernels (GPU). This file follows, module by module and with the same parameter
names (so `load_state_dict(strict=True)` accepts a cartesia-ai/Llamba-* state dict), the source at
  cartesia-ai/edge @ 95d827686cb1d370ba19df31a2e25544e92a338b
  cartesia-pytorch/cartesia_pytorch/Llamba/{llamba.py, mixers/discrete_mamba2.py, modeling_llama.py,
                                            configuration_llamba.py}
It is our own code (same math, same structure), not a copy. The two kernel call sites of the official mixer are the
methods `DiscreteMamba2.chunk_scan` (official: mamba_ssm Triton `mamba_chunk_scan_combined`) and
`DiscreteMamba2.state_update` (official: Triton `selective_state_update`). Here they run on the CPU:
  chunk_scan   -> mamba_ssm 2.3.2.post1 `mamba_ssm/modules/ssd_minimal.py::ssd_minimal_discrete`, fed exactly what
                  the official call feeds the kernel after the kernel's own dt processing: X = (x / softplus(a)) *
                  softplus(a) and log-decay A*dt = -softplus(a) (A = -1, dt = a, dt_softplus, dt_bias 0, D 0).
  state_update -> the equations of mamba_ssm's `selective_state_update_ref` with the official arguments.
tools/reference/check_llamba_triton.py swaps both methods for the Triton kernels, called as cartesia calls them.

Dimension letters (docs/models.md §"Dimension letters"): B batch (here `b`, to keep `B` for the SSM input matrix),
T/L sequence, D model, H = n_v_heads, G = n_qk_heads, P = d_inner / H, N = d_state, K = d_conv (4),
Cc = d_inner + 2 G N, V vocab.

Decode state, per layer, a dict (our layout; the official one in brackets):
  "conv": (b, K-1, Cc) the last K-1 *pre-conv* xBC rows, oldest first
          [official: (b, Cc, K), the last K rows; its column 0 is rolled out before it is ever used, so
           ours == official[:, :, 1:].transpose(1, 2)]
  "ssm":  (b, H, P, N) S_t, fp32 (or the model dtype for the fp64 cross-checks)

Deviation from the official forward, on purpose and invisible in its outputs: the official forward zero-pads the
*input u* up to a multiple of chunk_size; in_proj(0) = 0 gives a = 0, i.e. decay 1/2 per padded step, and the padded
steps still receive conv outputs (bias, tail of the real rows) as inputs. Causality keeps the outputs at t < T exact,
but a final state taken after the padding is wrong. The official code never returns such a state: with a cache it
sets chunk_size = T (no padding). We pad u the same way, and then set X = 0 and log-decay = 0 on the padded steps
before the scan (`exact_padding=True`, the default), which leaves every output at t < T unchanged and makes the final
state exact for any block length. `exact_padding=False` reproduces the official padding (used to demonstrate it).

Usage as a library: `LlambaLMHeadModel.from_pretrained(dir)`; `forward(ids, state=..., block_len=...)`, `step(ids,
state)`, `allocate_state(b)`. Run as a script on a checkpoint directory to print its logits' summary.
"""
import hashlib
import json
import os
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange, repeat

UPSTREAM = ("cartesia-ai/edge@95d827686cb1d370ba19df31a2e25544e92a338b "
            "cartesia-pytorch/cartesia_pytorch/Llamba/{llamba.py,mixers/discrete_mamba2.py,modeling_llama.py,"
            "configuration_llamba.py}")
MAMBA_SSM_VERSION = "2.3.2.post1"
SSD_MINIMAL_SHA256 = "6442a9fe25a6792258df657392ab1fab4dd873ee777d9dd5783cc76030218e07"
DEFAULT_MAMBA_SRC = "/tmp/sd/mamba_ssm-2.3.2.post1"


# ---------------------------------------------------------------------------------------------------------------------
# mamba_ssm's pure-PyTorch SSD (ssd_minimal.py), imported by path.

_SSD = None


def mamba_src_dir():
    """The unpacked mamba_ssm sdist (`pip download --no-deps --no-binary :all: mamba_ssm==2.3.2.post1`)."""
    return os.environ.get("MAMBA_SSM_SRC", DEFAULT_MAMBA_SRC)


def load_ssd_minimal():
    """Returns mamba_ssm 2.3.2.post1's `ssd_minimal` module (`ssd_minimal_discrete`, `segsum`).

    The package `__init__` imports the CUDA extension, so it is not run: a stub package object with the real
    `__path__` stands in for `mamba_ssm`, and the one module-level import of ssd_minimal.py that needs Triton
    (`mamba_chunk_scan_combined`, used only by its GPU self-test) is answered by a stub. sys.modules is restored
    afterwards, so the real package can still be imported (the GPU check script does that).
    """
    global _SSD
    if _SSD is not None:
        return _SSD
    pkg = os.path.join(mamba_src_dir(), "mamba_ssm")
    path = os.path.join(pkg, "modules", "ssd_minimal.py")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != SSD_MINIMAL_SHA256:
        raise RuntimeError(f"{path}: sha256 {digest} is not mamba_ssm {MAMBA_SSM_VERSION}'s ssd_minimal.py "
                           f"({SSD_MINIMAL_SHA256}); set MAMBA_SSM_SRC to the unpacked mamba_ssm-"
                           f"{MAMBA_SSM_VERSION} sdist")
    names = ["mamba_ssm", "mamba_ssm.modules", "mamba_ssm.ops", "mamba_ssm.ops.triton",
             "mamba_ssm.ops.triton.ssd_combined", "mamba_ssm.modules.ssd_minimal"]
    saved = {n: sys.modules.get(n) for n in names}
    try:
        for n, sub in [("mamba_ssm", ""), ("mamba_ssm.modules", "modules"), ("mamba_ssm.ops", "ops"),
                       ("mamba_ssm.ops.triton", "ops/triton")]:
            m = types.ModuleType(n)
            m.__path__ = [os.path.join(pkg, sub)]
            sys.modules[n] = m
        stub = types.ModuleType("mamba_ssm.ops.triton.ssd_combined")

        def _no_triton(*args, **kwargs):
            raise RuntimeError("stub: mamba_chunk_scan_combined needs the GPU (see check_llamba_triton.py)")

        stub.mamba_chunk_scan_combined = _no_triton
        sys.modules[stub.__name__] = stub
        import importlib.util
        spec = importlib.util.spec_from_file_location("mamba_ssm.modules.ssd_minimal", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m
    _SSD = mod
    return mod


# ---------------------------------------------------------------------------------------------------------------------
# Config (configuration_llamba.py)

class LlambaConfig:
    """The cartesia config.json. `vocab_size` stays as written; `padded_vocab_size` is what the model allocates
    (the official __init__ pads V up to a multiple of pad_vocab_size_multiple and overwrites config.vocab_size)."""

    def __init__(self, vocab_size, d_model, tie_embeddings=False, pad_vocab_size_multiple=8, lm_head_bias=False,
                 n_layer=32, resid_dropout=0.0, norm_epsilon=1e-5, mlp_cfg=None, ssm_cfg=None, **kwargs):
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.tie_embeddings = tie_embeddings
        self.pad_vocab_size_multiple = pad_vocab_size_multiple
        self.lm_head_bias = lm_head_bias
        self.n_layer = n_layer
        self.resid_dropout = resid_dropout  # read by nothing upstream either
        self.norm_epsilon = norm_epsilon
        self.mlp_cfg = mlp_cfg or {"intermediate_size": 14336, "bias": False, "act_fn": "silu"}
        self.ssm_cfg = ssm_cfg or {"d_state": 64, "n_v_heads": 32, "n_qk_heads": 32, "expand": 1,
                                   "chunk_size": 128, "activation": "identity", "bias": False}
        self.extra = kwargs  # model_type etc.

    @property
    def padded_vocab_size(self):
        v, m = self.vocab_size, self.pad_vocab_size_multiple
        return v if v % m == 0 else v + m - v % m

    @classmethod
    def from_json(cls, path):
        with open(path) as f:
            return cls(**json.load(f))


# ---------------------------------------------------------------------------------------------------------------------
# modeling_llama.py

class LlamaRMSNorm(nn.Module):
    """fp32 x * rsqrt(mean(x^2) + eps), cast back to the input dtype, then * weight."""

    def __init__(self, hidden_size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))  # (D,)
        self.variance_epsilon = eps

    def forward(self, h):  # (..., D)
        dtype = h.dtype
        h32 = h.to(torch.float32) if dtype != torch.float64 else h  # fp64 cross-checks stay fp64
        var = h32.pow(2).mean(-1, keepdim=True)
        return self.weight * (h32 * torch.rsqrt(var + self.variance_epsilon)).to(dtype)


class LlamaMLP(nn.Module):
    """down( act(gate(x)) * up(x) )."""

    def __init__(self, hidden_size, intermediate_size, bias, act_fn):
        super().__init__()
        from transformers.activations import ACT2FN
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=bias)  # (I, D)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=bias)  # (I, D)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=bias)  # (D, I)
        self.act_fn = ACT2FN[act_fn]

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


# ---------------------------------------------------------------------------------------------------------------------
# mixers/discrete_mamba2.py

class DiscreteMamba2(nn.Module):
    """Discrete Mamba-2 mixer. in_proj rows: [x: d_inner | B: G N | C: G N | z: d_inner | a: H]; the first Cc
    rows (xBC) go through the depthwise causal conv (K taps, bias, activation 'identity')."""

    def __init__(self, d_model, d_state=64, n_qk_heads=32, n_v_heads=32, d_conv=4, expand=1, activation="identity",
                 bias=False, conv_bias=True, chunk_size=128, layer_idx=None, **kwargs):
        super().__init__()
        self.d_model = d_model
        self.d_state = d_state  # N
        self.d_conv = d_conv  # K
        self.expand = expand
        self.d_inner = expand * d_model
        self.n_qk_heads = n_qk_heads  # G
        self.n_v_heads = n_v_heads  # H
        self.headdim = self.d_inner // n_v_heads  # P
        assert self.n_v_heads == self.d_inner // self.headdim and self.d_inner % self.headdim == 0
        assert n_v_heads % n_qk_heads == 0
        self.activation = activation
        self.chunk_size = chunk_size
        self.layer_idx = layer_idx
        self.bias = bias
        self.conv_dim = self.d_inner + 2 * n_qk_heads * d_state  # Cc
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner + 2 * n_qk_heads * d_state + n_v_heads, bias=bias)
        # z_bias exists iff bias is False (official: `nn.Parameter(zeros) if not bias else 0`)
        self.z_bias = nn.Parameter(torch.zeros(self.d_inner)) if not bias else 0
        self.conv_bias = conv_bias
        self.conv1d = nn.Conv1d(self.conv_dim, self.conv_dim, kernel_size=d_conv, groups=self.conv_dim,
                                padding=d_conv - 1, bias=conv_bias)  # weight (Cc, 1, K), bias (Cc,)
        if activation == "identity":
            self.act = nn.Identity()
        elif activation in ("silu", "swish"):
            self.act = nn.SiLU()
        else:
            raise ValueError(f"Unknown activation {activation}")
        self.D = nn.Parameter(torch.ones(n_v_heads))  # (H,)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)  # (D, d_inner)
        self.exact_padding = True  # see the module docstring

    # -- the two kernel call sites ------------------------------------------------------------------------------------

    def chunk_scan(self, x, a, B, C, chunk_size, seqlen, return_final_states):
        """Official: mamba_chunk_scan_combined(x=x/softplus(a), dt=a, dt_softplus=True, A=-ones(H), B, C,
        chunk_size, return_final_states). x (b, l, H, P) post-conv, a (b, l, H) raw, B/C (b, l, G, N);
        l = padded length (a multiple of chunk_size), seqlen = the real length. Returns y (b, l, H, P) without the
        D term, and the final state (b, H, P, N) or None."""
        ssd = load_ssd_minimal()
        delta = F.softplus(a)  # (b, l, H); torch and the kernel both return a itself for a > 20
        X = (x / delta.unsqueeze(-1)) * delta.unsqueeze(-1)  # official x / softplus(a); the kernel multiplies by dt
        logdecay = -delta  # A * dt with A = -1
        if self.exact_padding and x.shape[1] > seqlen:
            keep = (torch.arange(x.shape[1], device=x.device) < seqlen).to(x.dtype)  # (l,)
            X = X * keep[None, :, None, None]
            logdecay = logdecay * keep[None, :, None]
        rep = self.n_v_heads // self.n_qk_heads  # head h reads group h // rep (kernel: nheads_ngroups_ratio)
        Bh = B.repeat_interleave(rep, dim=2)
        Ch = C.repeat_interleave(rep, dim=2)
        y, final = ssd.ssd_minimal_discrete(X, logdecay, Bh, Ch, chunk_size)
        return y, (final if return_final_states else None)

    def state_update(self, x, a, B, C, ssm_state):
        """Official: selective_state_update(x=x/softplus(a), dt=repeat(a, 'b h -> b h p'), dt_softplus=True,
        A=-ones(H, P, N), B, C, state, dt_bias=zeros(H, P), D=zeros(H, P)), state updated in place.
        x (b, H, P), a (b, H), B/C (b, G, N), ssm_state (b, H, P, N). Returns y (b, H, P) without the D term.
        Equations of mamba_ssm's selective_state_update_ref."""
        xs = x / F.softplus(a).to(x.dtype).unsqueeze(-1)  # the official argument x
        dt = F.softplus(repeat(a, "b h -> b h p", p=self.headdim) + 0.0)  # dt + dt_bias(0), then softplus
        dA = torch.exp(dt.unsqueeze(-1) * -1.0)  # (b, H, P, 1): exp(dt * A), A = -1
        rep = self.n_v_heads // self.n_qk_heads
        Bh = repeat(B, "b g n -> b (g r) n", r=rep)
        Ch = repeat(C, "b g n -> b (g r) n", r=rep)
        dB = dt.unsqueeze(-1) * Bh.unsqueeze(2)  # (b, H, P, N)
        ssm_state.copy_(ssm_state * dA + dB * xs.unsqueeze(-1))
        return torch.einsum("bhpn,bhn->bhp", ssm_state, Ch)  # + xs * D with D = 0

    # -- forward / step -----------------------------------------------------------------------------------------------

    def split_proj(self, proj):
        d, gn, h = self.d_inner, self.n_qk_heads * self.d_state, self.n_v_heads
        return torch.split(proj, [d + 2 * gn, d, h], dim=-1)  # xBC (Cc), z (d_inner), a (H)

    def split_xbc(self, xBC):
        d, gn = self.d_inner, self.n_qk_heads * self.d_state
        return torch.split(xBC, [d, gn, gn], dim=-1)

    def conv_forward(self, xBC, length):  # (b, l, Cc) -> (b, l, Cc); causal, zero history
        return self.act(self.conv1d(xBC.transpose(1, 2))[..., :length].transpose(1, 2))

    def forward(self, u, state=None, block_len=None):
        """u (b, T, D) -> (b, T, D). With `state` (a fresh dict from allocate_state), it is filled with the conv
        and SSM state after the T tokens. block_len None = the official choice: config chunk_size without a state,
        T with one."""
        batch, seqlen, _ = u.shape
        chunk = block_len if block_len is not None else (self.chunk_size if state is None else seqlen)
        padded_len = (1 + (seqlen - 1) // chunk) * chunk
        u = F.pad(u, (0, 0, 0, padded_len - seqlen))  # official: zero-pad the input
        xBC, z, a = self.split_proj(self.in_proj(u))  # (b, l, Cc), (b, l, d_inner), (b, l, H)
        if state is not None:
            k1 = self.d_conv - 1
            rows = xBC[:, :seqlen]
            state["conv"].copy_(rows[:, seqlen - k1:] if seqlen >= k1 else F.pad(rows, (0, 0, k1 - seqlen, 0)))
        xBC = self.conv_forward(xBC, padded_len)
        x, B, C = self.split_xbc(xBC)
        x = rearrange(x, "b l (h p) -> b l h p", h=self.n_v_heads)
        B = rearrange(B, "b l (g n) -> b l g n", g=self.n_qk_heads)
        C = rearrange(C, "b l (g n) -> b l g n", g=self.n_qk_heads)
        y, final = self.chunk_scan(x, a, B, C, chunk, seqlen, return_final_states=state is not None)
        if state is not None:
            state["ssm"].copy_(final)
        y = rearrange(y + torch.einsum("h,blhp->blhp", self.D, x), "b l h p -> b l (h p)")
        out = self.out_proj(y * F.silu(z + self.z_bias))
        return out[:, :seqlen]

    def conv_step(self, xBC, conv_state):
        """xBC (b, Cc) newest pre-conv row; conv_state (b, K-1, Cc) updated in place. Official (no causal_conv1d):
        roll the (b, Cc, K) state left, write the newest in column K-1, sum(state * w, -1) + bias, act."""
        window = torch.cat([conv_state, xBC.unsqueeze(1)], dim=1)  # (b, K, Cc), oldest first
        out = torch.sum(window.transpose(1, 2) * rearrange(self.conv1d.weight, "d 1 w -> d w"), dim=-1)
        if self.conv_bias:
            out = out + self.conv1d.bias
        conv_state.copy_(window[:, 1:])
        return self.act(out).to(out.dtype)

    def step(self, u, state):
        """u (b, D) one token -> (b, D); state updated in place."""
        xBC, z, a = self.split_proj(self.in_proj(u))
        xBC = self.conv_step(xBC, state["conv"])
        x, B, C = self.split_xbc(xBC)
        x = rearrange(x, "b (h p) -> b h p", h=self.n_v_heads)
        B = rearrange(B, "b (g n) -> b g n", g=self.n_qk_heads)
        C = rearrange(C, "b (g n) -> b g n", g=self.n_qk_heads)
        y = self.state_update(x, a, B, C, state["ssm"])
        y = rearrange(y + self.D[:, None] * x, "b h p -> b (h p)")
        return self.out_proj(y * F.silu(z + self.z_bias))

    def allocate_state(self, batch, dtype=torch.float32, device=None):
        return {"conv": torch.zeros(batch, self.d_conv - 1, self.conv_dim, dtype=dtype, device=device),
                "ssm": torch.zeros(batch, self.n_v_heads, self.headdim, self.d_state, dtype=dtype, device=device)}

    # -- materialized form (phi-mamba discrete_mamba2_ref.py::materialize_mixer) ---------------------------------------

    def materialize(self, u):
        """u (b, T, D) normed mixer input -> M (b, H, T, T) with M[t, s] = (C_t . B_s) exp(sum_{k=s+1..t} -softplus(
        a_k)) for s <= t, 0 above the diagonal, D[h] added on the diagonal; plus x (b, T, H, P), z (b, T, d_inner)
        so that y = M x, out = out_proj(y * silu(z + z_bias))."""
        ssd = load_ssd_minimal()
        T = u.shape[1]
        xBC, z, a = self.split_proj(self.in_proj(u))
        x, B, C = self.split_xbc(self.conv_forward(xBC, T))
        x = rearrange(x, "b l (h p) -> b l h p", h=self.n_v_heads)
        rep = self.n_v_heads // self.n_qk_heads
        Bh = rearrange(B, "b l (g n) -> b l g n", g=self.n_qk_heads).repeat_interleave(rep, dim=2)
        Ch = rearrange(C, "b l (g n) -> b l g n", g=self.n_qk_heads).repeat_interleave(rep, dim=2)
        powers = torch.exp(ssd.segsum(rearrange(-F.softplus(a), "b l h -> b h l")))  # (b, H, T, T)
        M = torch.einsum("blhn,bshn,bhls->bhls", Ch, Bh, powers)
        idx = torch.arange(T, device=u.device)
        M[:, :, idx, idx] += self.D.view(1, -1, 1)
        return M, x, z


# ---------------------------------------------------------------------------------------------------------------------
# llama.py

class Block(nn.Module):
    """h += mixer(input_layernorm(h)); h += mlp(post_attention_layernorm(h)). Block norms use eps 1e-5 always."""

    def __init__(self, config, layer_idx):
        super().__init__()
        self.layer_idx = layer_idx
        self.mixer = DiscreteMamba2(d_model=config.d_model, layer_idx=layer_idx, **config.ssm_cfg)
        self.input_layernorm = LlamaRMSNorm(config.d_model, eps=1e-5)
        self.post_attention_layernorm = LlamaRMSNorm(config.d_model, eps=1e-5)
        self.mlp = LlamaMLP(hidden_size=config.d_model, **config.mlp_cfg)

    def forward(self, h, state=None, block_len=None, taps=None):
        m = self.mixer(self.input_layernorm(h), state=state, block_len=block_len)
        if taps is not None:
            taps[f"mixer_out.{self.layer_idx}"] = m
        h = m.to(h.dtype) + h
        return h + self.mlp(self.post_attention_layernorm(h))

    def step(self, h, state):  # h (b, D)
        h = self.mixer.step(self.input_layernorm(h), state).to(h.dtype) + h
        return h + self.mlp(self.post_attention_layernorm(h))


class MixerModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embedding = nn.Embedding(config.padded_vocab_size, config.d_model)  # (V_pad, D)
        self.layers = nn.ModuleList([Block(config, i) for i in range(config.n_layer)])
        self.final_layernorm = LlamaRMSNorm(config.d_model, eps=config.norm_epsilon)


class LlambaLMHeadModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.backbone = MixerModel(config)
        if not config.tie_embeddings:
            self.lm_head = nn.Linear(config.d_model, config.padded_vocab_size, bias=config.lm_head_bias)

    def head(self, h):
        """Tied: h @ E^T (official: a lambda, so no lm_head.weight in the state dict). Then .float() (skipped for
        the fp64 cross-checks)."""
        out = h @ self.backbone.embedding.weight.t() if self.config.tie_embeddings else self.lm_head(h)
        return out if out.dtype == torch.float64 else out.float()

    def forward(self, input_ids, state=None, block_len=None, taps=None):
        """input_ids (b, T) -> logits (b, T, V_pad). `state`: list of per-layer dicts (allocate_state) filled after
        the prompt. `taps`: dict receiving hidden.{l} (l = 0..L), mixer_out.{l}, final_hidden."""
        h = self.backbone.embedding(input_ids)
        if taps is not None:
            taps["hidden.0"] = h
        for i, layer in enumerate(self.backbone.layers):
            h = layer(h, state=None if state is None else state[i], block_len=block_len, taps=taps)
            if taps is not None:
                taps[f"hidden.{i + 1}"] = h
        h = self.backbone.final_layernorm(h)
        if taps is not None:
            taps["final_hidden"] = h
        return self.head(h)

    def step(self, input_ids, state):
        """input_ids (b,) one token per sequence -> logits (b, V_pad); state updated in place."""
        h = self.backbone.embedding(input_ids)
        for i, layer in enumerate(self.backbone.layers):
            h = layer.step(h, state[i])
        return self.head(self.backbone.final_layernorm(h))

    def allocate_state(self, batch, dtype=torch.float32, device=None):
        return [layer.mixer.allocate_state(batch, dtype, device) for layer in self.backbone.layers]

    @classmethod
    def from_pretrained(cls, directory):
        """config.json + model.safetensors in the cartesia-ai/Llamba-* layout, loaded with strict=True."""
        from safetensors.torch import load_file
        model = cls(LlambaConfig.from_json(os.path.join(directory, "config.json")))
        model.load_state_dict(load_file(os.path.join(directory, "model.safetensors")), strict=True)
        return model.eval()


def main():
    torch.set_num_threads(1)
    d = sys.argv[1]
    model = LlambaLMHeadModel.from_pretrained(d)
    ids = torch.arange(8).remainder(model.config.vocab_size).unsqueeze(0)
    with torch.no_grad():
        logits = model(ids)
    print(f"{d}: logits {tuple(logits.shape)} mean {logits.mean().item():.6f} std {logits.std().item():.6f}")


if __name__ == "__main__":
    main()
