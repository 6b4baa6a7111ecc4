#!/usr/bin/env python3
"""Training-parity fixtures: one step (loss and every parameter gradient) and a 10-step AdamW loss trajectory of
tiny models, computed by PyTorch autograd and torch.optim.AdamW in fp64 (the exact target our fp32 trainer is
compared with). Writes tests/fixtures/train/<family>_<name>.safetensors:
  tokens (B, T+1) i64: inputs tokens[:, :-1], targets tokens[:, 1:] (cross-entropy, mean over B·T positions)
  loss () f64, grad.<gguf name> (parameter shape in GGUF/PyTorch order, f64)
  adamw_losses (10,) f64: losses before each of 10 AdamW steps on the same batch
  metadata: lr, betas, eps, weight_decay, decay rule, versions.
Families:
  llamba  tools/reference/llamba_reference.py on tests/fixtures/llamba/<name>.
  mamba2  transformers `Mamba2ForCausalLM` (its PyTorch path) on tests/fixtures/mamba2/<name>, in fp64: its fp32
          upcasts (`.float()`, `.to(torch.float32)` in the norms, the scan, the residual and the logits) are kept in
          fp64 by a TorchFunctionMode (Fp64Casts), and the loss and every gradient are cross-checked against autograd
          through the independent fp64 equations of make_mamba2_fixtures.py (`ref64`). `groups2` uses mamba_ssm's
          grouped `rms_norm_ref` for the gated norm, as make_mamba2_fixtures.py does.
          PyTorch trains A_log; our GGUF holds either A = -exp(A_log) (`blk.N.ssm_a`, inference files) or A_log
          itself (`blk.N.ssm_a_log`, the training form): grad.<..>.ssm_a_log = dL/dA_log and
          grad.<..>.ssm_a = dL/dA = (dL/dA_log) / A (dA/dA_log = A). The AdamW trajectory trains A_log.
          A checkpoint without conv bias gets grad.<..>.ssm_conv1d.bias of a zero bias (the inference conversion
          writes one); the trajectory trains the model as it is, without it (as the training conversion does).
  gateloop  tools/reference/gateloop_train_reference.py: lucidrains gateloop-transformer on tests/fixtures/gateloop/
          checkpoints (frac_gradient_state_transition 0.9 reproduced), and a checked re-implementation for our own
          variants, whose fixtures also hold param.<gguf name> (initial values) and the init_config JSON.
Usage: /opt/refenv/bin/python tools/reference/make_train_fixtures.py [llamba] [mamba2] [gateloop]
"""
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from torch.overrides import TorchFunctionMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llamba_reference import LlambaLMHeadModel  # noqa: E402
import make_mamba2_fixtures as m2fx  # noqa: E402
import gateloop_train_reference  # noqa: E402
from fixture_io import adamw_losses, save_canonical  # noqa: E402

OUT = "tests/fixtures/train"
LR, BETAS, EPS, WD, STEPS = 1e-3, (0.9, 0.95), 1e-8, 0.1, 10


def llamba_gguf_name(n):
    """cartesia HF name -> our GGUF name (as `llamba convert` writes it)."""
    if n == "backbone.embedding.weight":
        return "token_embd.weight"
    if n == "backbone.final_layernorm.weight":
        return "output_norm.weight"
    if n == "lm_head.weight":
        return "output.weight"
    p = n.split(".")
    i, rest = p[2], ".".join(p[3:])
    table = {"input_layernorm.weight": "attn_norm.weight", "mixer.in_proj.weight": "ssm_in.weight",
             "mixer.z_bias": "ssm_z_bias", "mixer.conv1d.weight": "ssm_conv1d.weight",
             "mixer.conv1d.bias": "ssm_conv1d.bias", "mixer.D": "ssm_d", "mixer.out_proj.weight": "ssm_out.weight",
             "post_attention_layernorm.weight": "ffn_norm.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
             "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}
    return f"blk.{i}.{table[rest]}"


def decays(name, p):
    """Our default_decay: matrices decay; 1-D tensors, conv kernels and norm weights (Mamba-2's gated norm is
    stored (G, d_inner/G)) do not."""
    return p.dim() >= 2 and "conv1d" not in name and "norm" not in name


def loss_of(model, tokens, V):
    logits = model(tokens[:, :-1])
    return F.cross_entropy(logits.reshape(-1, V), tokens[:, 1:].reshape(-1))


def make_llamba(name, seed, B=2, T=24):
    torch.manual_seed(seed)
    model = LlambaLMHeadModel.from_pretrained(os.path.join("tests/fixtures/llamba", name)).double()
    V, vocab = model.config.padded_vocab_size, model.config.vocab_size
    tokens = torch.randint(0, vocab, (B, T + 1), generator=torch.Generator().manual_seed(seed))
    m1 = copy.deepcopy(model)
    loss = loss_of(m1, tokens, V)
    loss.backward()
    tensors = {"tokens": tokens.numpy().astype(np.int64), "loss": np.array(loss.item(), dtype=np.float64)}
    for n, p in m1.named_parameters():
        g = p.grad.detach().numpy()
        if n.endswith("conv1d.weight"):
            g = g.reshape(g.shape[0], g.shape[2])
        tensors["grad." + llamba_gguf_name(n)] = g.astype(np.float64).copy()
    m2 = copy.deepcopy(model)
    losses = adamw_losses(list(m2.named_parameters()), lambda: loss_of(m2, tokens, V), LR, BETAS, EPS, WD, STEPS,
                          decays)
    tensors["adamw_losses"] = np.array(losses, dtype=np.float64)
    meta = {"fixture_format": "1", "generator": "tools/reference/make_train_fixtures.py", "family": "llamba",
            "checkpoint": f"tests/fixtures/llamba/{name}", "seed": str(seed), "dtype": "float64",
            "lr": str(LR), "betas": str(BETAS), "eps": str(EPS), "weight_decay": str(WD),
            "decay_rule": "p.dim() >= 2 and 'conv1d' not in name", "torch": torch.__version__}
    path = os.path.join(OUT, f"llamba_{name}.safetensors")
    save_canonical({k: torch.from_numpy(v) for k, v in tensors.items()}, path, meta)
    print(path, os.path.getsize(path), "loss", loss.item(), "trajectory", [round(x, 6) for x in losses])


# ---------------------------------------------------------------------------------------------------------------------
# Mamba-2

class Fp64Casts(TorchFunctionMode):
    """Inside this mode `.float()` and `.to(torch.float32)` of an fp64 tensor keep fp64, so transformers' fp32
    upcasts do not round an fp64 model to fp32 (everything else runs unchanged)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is torch.Tensor.float and args[0].dtype == torch.float64:
            return args[0]
        if func is torch.Tensor.to and args[0].dtype == torch.float64:
            args = tuple(torch.float64 if a is torch.float32 else a for a in args)
            if kwargs.get("dtype") is torch.float32:
                kwargs["dtype"] = torch.float64
        return func(*args, **kwargs)


def mamba2_gguf_names(n):
    """transformers Mamba2ForCausalLM name -> our GGUF name(s) (as `llamba convert` writes them; A_log both ways)."""
    if n == "backbone.embeddings.weight":
        return ["token_embd.weight"]
    if n == "backbone.norm_f.weight":
        return ["output_norm.weight"]
    if n == "lm_head.weight":
        return ["output.weight"]
    p = n.split(".")
    i, rest = p[2], ".".join(p[3:])
    table = {"norm.weight": "attn_norm.weight", "mixer.in_proj.weight": "ssm_in.weight",
             "mixer.in_proj.bias": "ssm_in.bias", "mixer.conv1d.weight": "ssm_conv1d.weight",
             "mixer.conv1d.bias": "ssm_conv1d.bias", "mixer.dt_bias": "ssm_dt.bias", "mixer.D": "ssm_d",
             "mixer.norm.weight": "ssm_norm.weight", "mixer.out_proj.weight": "ssm_out.weight",
             "mixer.out_proj.bias": "ssm_out.bias", "mixer.A_log": "ssm_a_log"}
    return [f"blk.{i}.{table[rest]}"]


def mamba2_fx(cfg):
    """make_mamba2_fixtures' fixture dict (what ref64 reads) from a saved config.json."""
    lim = cfg.get("time_step_limit") or [0.0, float("inf")]
    hi = lim[1] if isinstance(lim[1], (int, float)) else float("inf")
    return dict(D=cfg["hidden_size"], expand=cfg["expand"], H=cfg["num_heads"], P=cfg["head_dim"],
                N=cfg["state_size"], G=cfg["n_groups"], L=cfg["num_hidden_layers"], eps=cfg["layer_norm_epsilon"],
                dt_limit=(float(lim[0]), float(hi)))


def load_mamba2(d, cfg, rms_norm_ref):
    model = transformers.Mamba2ForCausalLM.from_pretrained(d, dtype=torch.float64).eval()  # eval: no fused path
    if cfg["n_groups"] > 1:
        m2fx.use_grouped_norm(model, rms_norm_ref, cfg["n_groups"])
    return model


def mamba2_loss(model, tokens, V):
    logits = model(tokens[:, :-1], use_cache=False).logits
    assert logits.dtype == torch.float64
    return F.cross_entropy(logits.reshape(-1, V), tokens[:, 1:].reshape(-1))


def make_mamba2(name, seed, rms_norm_ref, B=2, T=24):
    d = os.path.join("tests/fixtures/mamba2", name)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    V, di, G = cfg["vocab_size"], cfg["num_heads"] * cfg["head_dim"], cfg["n_groups"]
    tied = cfg.get("tie_word_embeddings", False)
    tokens = torch.randint(0, V, (B, T + 1), generator=torch.Generator().manual_seed(seed))
    with Fp64Casts():
        m1 = load_mamba2(d, cfg, rms_norm_ref)
        if not cfg.get("use_conv_bias", True):
            # Without a conv bias our inference conversion still writes a zero `ssm_conv1d.bias` (llama.cpp needs the
            # tensor), which then is a parameter: its gradient is that of a zero bias, same forward.
            for layer in m1.backbone.layers:
                cc = layer.mixer.conv1d.weight.shape[0]
                layer.mixer.conv1d.bias = torch.nn.Parameter(torch.zeros(cc, dtype=torch.float64))
        loss = mamba2_loss(m1, tokens, V)
        loss.backward()
    tensors = {"tokens": tokens.numpy().astype(np.int64), "loss": np.array(loss.item(), dtype=np.float64)}
    grads = {}
    for n, p in m1.named_parameters():
        g = p.grad.detach().double()
        (gg,) = mamba2_gguf_names(n)
        if n.endswith("conv1d.weight"):
            g = g.reshape(g.shape[0], g.shape[2])
        if n.endswith("mixer.norm.weight"):
            g = g.reshape(G, di // G)
        if n.endswith("A_log"):
            grads[gg[:-len("_log")]] = g / -torch.exp(p.detach())  # dL/dA = (dL/dA_log) / A
        grads[gg] = g
        grads[gg + "#hf"] = n
    # Cross-check: autograd through the independent fp64 equations (token-by-token recurrence, grouped norm).
    sd = {k: v.detach().clone().requires_grad_(True) for k, v in m1.state_dict().items()
          if not (tied and k == "lm_head.weight")}
    logits64 = m2fx.ref64(sd, mamba2_fx(cfg), tokens[:, :-1])["logits"]
    loss64 = F.cross_entropy(logits64.reshape(-1, V), tokens[:, 1:].reshape(-1))
    loss64.backward()
    cross = abs(loss64.item() - loss.item()) / abs(loss.item())
    for n, p in m1.named_parameters():
        ref = sd[n].grad.reshape(p.grad.shape)
        cross = max(cross, (ref - p.grad).abs().max().item() / max(ref.abs().max().item(), 1e-300))
    assert cross < 1e-10, (name, cross)
    for k, v in grads.items():
        if not k.endswith("#hf"):
            tensors["grad." + k] = v.numpy().astype(np.float64).copy()

    with Fp64Casts():
        m2 = load_mamba2(d, cfg, rms_norm_ref)
        losses = adamw_losses(list(m2.named_parameters()), lambda: mamba2_loss(m2, tokens, V), LR, BETAS, EPS, WD,
                              STEPS, decays)
    tensors["adamw_losses"] = np.array(losses, dtype=np.float64)
    meta = {"fixture_format": "1", "generator": "tools/reference/make_train_fixtures.py", "family": "mamba2",
            "checkpoint": f"tests/fixtures/mamba2/{name}", "seed": str(seed), "dtype": "float64",
            "upstream": f"transformers {transformers.__version__} Mamba2ForCausalLM, PyTorch path, fp64 (Fp64Casts)"
                        + (", gated norm = mamba_ssm rms_norm_ref grouped" if G > 1 else ""),
            "cross_check_vs_ref64": f"{cross:.2e}",
            "a_parametrization": "PyTorch trains A_log; grad.*.ssm_a_log = dL/dA_log, grad.*.ssm_a = dL/dA "
                                 "= dL/dA_log / A with A = -exp(A_log); the trajectory trains A_log",
            "lr": str(LR), "betas": str(BETAS), "eps": str(EPS), "weight_decay": str(WD),
            "decay_rule": "p.dim() >= 2 and 'conv1d' not in name and 'norm' not in name",
            "torch": torch.__version__, "transformers": transformers.__version__}
    path = os.path.join(OUT, f"mamba2_{name}.safetensors")
    # Sorted __metadata__: byte-identical re-runs.
    save_canonical({k: torch.from_numpy(v) for k, v in tensors.items()}, path, meta)
    assert os.path.getsize(path) < 1_000_000, path
    print(path, os.path.getsize(path), "loss", loss.item(), "cross-check vs ref64", f"{cross:.1e}", "trajectory",
          [round(x, 6) for x in losses])


def make_gateloop():
    import importlib.metadata
    meta = {"fixture_format": "1", "generator": "tools/reference/make_train_fixtures.py", "dtype": "float64",
            "lr": str(LR), "betas": str(BETAS), "eps": str(EPS), "weight_decay": str(WD),
            "decay_rule": "p.dim() >= 2 and 'conv1d' not in name and 'norm' not in name", "torch": torch.__version__,
            "gateloop-transformer": importlib.metadata.version("gateloop-transformer")}
    gateloop_train_reference.write_fixtures(OUT, (LR, BETAS, EPS, WD, STEPS), decays, meta, save_canonical)


def main():
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    os.makedirs(OUT, exist_ok=True)
    which = sys.argv[1:] or ["llamba", "mamba2", "gateloop"]
    if "llamba" in which:
        make_llamba("g_lt_h", 21)
        make_llamba("p_odd", 22)
    if "mamba2" in which:
        rms_norm_ref = m2fx.load_rms_norm_ref()
        make_mamba2("p_odd_untied", 31, rms_norm_ref)
        make_mamba2("groups2", 32, rms_norm_ref)
        make_mamba2("dt_limit", 33, rms_norm_ref)
    if "gateloop" in which:
        make_gateloop()


if __name__ == "__main__":
    main()
