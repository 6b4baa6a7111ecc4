#!/usr/bin/env python3
"""Training-parity fixtures: one step (loss and every parameter gradient) and a 10-step AdamW loss trajectory of
tiny models, computed by PyTorch autograd and torch.optim.AdamW in fp64 (the exact target our fp32 trainer is
compared with). Writes tests/fixtures/train/<family>_<name>.safetensors:
  tokens (B, T+1) i64: inputs tokens[:, :-1], targets tokens[:, 1:] (cross-entropy, mean over B·T positions)
  loss () f64, grad.<gguf name> (parameter shape in GGUF/PyTorch order, f64)
  adamw_losses (10,) f64: losses before each of 10 AdamW steps on the same batch
  metadata: lr, betas, eps, weight_decay, decay rule, versions.
Families: llamba (tools/reference/llamba_reference.py on tests/fixtures/llamba/<name>).
  gateloop  tools/reference/gateloop_train_reference.py: lucidrains gateloop-transformer on tests/fixtures/gateloop/
            checkpoints (frac_gradient_state_transition 0.9 reproduced), and a checked re-implementation for our
            own variants, whose fixtures also hold param.<gguf name> (initial values) and the init_config JSON.
Usage: /opt/refenv/bin/python tools/reference/make_train_fixtures.py [llamba] [gateloop]
"""
import copy
import os
import sys

import numpy as np
import safetensors.numpy
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llamba_reference import LlambaLMHeadModel  # noqa: E402
import gateloop_train_reference  # noqa: E402

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
    """Our default_decay: matrices decay; 1-D tensors and conv kernels do not."""
    return p.dim() >= 2 and "conv1d" not in name


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
    named = list(m2.named_parameters())
    opt = torch.optim.AdamW([{"params": [p for n, p in named if decays(n, p)], "weight_decay": WD},
                             {"params": [p for n, p in named if not decays(n, p)], "weight_decay": 0.0}],
                            lr=LR, betas=BETAS, eps=EPS)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        l = loss_of(m2, tokens, V)
        losses.append(l.item())
        l.backward()
        opt.step()
    tensors["adamw_losses"] = np.array(losses, dtype=np.float64)
    meta = {"fixture_format": "1", "generator": "tools/reference/make_train_fixtures.py", "family": "llamba",
            "checkpoint": f"tests/fixtures/llamba/{name}", "seed": str(seed), "dtype": "float64",
            "lr": str(LR), "betas": str(BETAS), "eps": str(EPS), "weight_decay": str(WD),
            "decay_rule": "p.dim() >= 2 and 'conv1d' not in name", "torch": torch.__version__}
    path = os.path.join(OUT, f"llamba_{name}.safetensors")
    safetensors.numpy.save_file(tensors, path, metadata=meta)
    print(path, os.path.getsize(path), "loss", loss.item(), "trajectory", [round(x, 6) for x in losses])


def make_gateloop():
    import importlib.metadata
    import make_gateloop_fixtures
    meta = {"fixture_format": "1", "generator": "tools/reference/make_train_fixtures.py", "dtype": "float64",
            "lr": str(LR), "betas": str(BETAS), "eps": str(EPS), "weight_decay": str(WD),
            "decay_rule": "p.dim() >= 2 and 'conv1d' not in name", "torch": torch.__version__,
            "gateloop-transformer": importlib.metadata.version("gateloop-transformer")}
    gateloop_train_reference.write_fixtures(OUT, (LR, BETAS, EPS, WD, STEPS), decays, meta,
                                            make_gateloop_fixtures.save_canonical)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    which = sys.argv[1:] or ["llamba", "gateloop"]
    if "llamba" in which:
        make_llamba("g_lt_h", 21)
        make_llamba("p_odd", 22)
    if "gateloop" in which:
        make_gateloop()


if __name__ == "__main__":
    main()
