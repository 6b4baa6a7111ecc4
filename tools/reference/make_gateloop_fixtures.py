#!/usr/bin/env python3
"""Reference fixtures for the GateLoop model: tiny lucidrains `gateloop_transformer.Transformer` models (PyPI
gateloop-transformer==0.2.5, the paper-faithful PyTorch code, docs/models.md §"GateLoop") run in fp32 on the CPU.

For each entry of FIXTURES writes tests/fixtures/gateloop/<name>/:
  config.json          {"model_type": "gateloop", "source": ..., <the Transformer(...) keyword arguments>}
  model.safetensors    the module's state dict as is (lucidrains names: token_emb.weight, layers.{i}.0.fn.to_qkv,
                       .to_a.0 (re/im interleaved per head), .maybe_sub_ln, .to_gates.0, .to_out, layers.{i}.0.norm
                       .gamma, layers.{i}.1.fn.{0,2} (GELU MLP, biased), layers.{i}.1.norm.gamma, to_logits.{0,1})
  reference.safetensors  (b = 2 rows; fp32 unless noted; "our layout" = what llamba's taps and states hold)
    input_ids (b, T) i64
    logits (b, T, V)
    hidden.{l} (b, T, D)       l = 0..L: input of block l; hidden.L = input of the final norm
    attn_norm.{l} (b, T, D)    RMSNorm output fed to the time mixer
    gl_log_decay.{l} (b, T, H) log|a| = log sigmoid(|z|) of the transition (the module's own ops, then log)
    gl_phase.{l} (b, T, H)     arg a = angle(z) in (-pi, pi]
    gl_y.{l} (b, T, d_inner)   merged heads of Re(q . h), before the sub-LN and the gate
    gl_gated.{l} (b, T, d_inner) input of to_out (after sub-LN and the SiLU gate)
    mixer_out.{l} (b, T, D)    GateLoopedAttention output, before the residual add
    ffn_norm.{l}, ffn_out.{l} (b, T, D)
    final_hidden (b, T, D)     after the final RMSNorm
    state.{l}.ssm / .ssm_im (b, H, P, N)  Re / Im of the recurrent state after the prompt, our (value, key) layout
                               = the last element of the package's associative scan over (a, k^T v), transposed
    decode_ids (b, S) i64, decode_logits (b, S, V): the package has no cache for Transformer (only
                               SimpleGateLoopLayer has one), so step s re-runs the whole prefix + s + 1 tokens
                               and keeps the last position
    decode_state.{l}.ssm / .ssm_im: state after prompt + S tokens
    greedy_ids (G,) i64        argmax continuation of prompt row 0 (prefix re-run per token); the smallest
                               top-1/top-2 logit margin on the way is in the metadata (no near-ties)
Also writes tests/fixtures/gateloop/bytes/tokenizer.json: a byte-level BPE with no merges whose token id is the
byte value (the fixtures' num_tokens = 256, as in lucidrains' enwik8 byte models), written by `tokenizers`; and per
fixture `cli_prompt_ids` / `cli_greedy_ids`: the bytes of CLI_PROMPT and their 16-token argmax continuation, the
golden of `llamba run` on the converted model (tests/models/test_gateloop_cli.cpp).
Usage: /opt/refenv/bin/python tools/reference/make_gateloop_fixtures.py [out_dir]   (pins: requirements.txt)
Re-running gives byte-identical files (fixed seeds, one thread, canonical safetensors header order).
"""
import copy
import importlib.metadata
import json
import math
import os
import platform
import sys

import tokenizers
import torch
from einops import rearrange
from gateloop_transformer import Transformer
from gateloop_transformer.associative_scan import associative_scan

from fixture_io import checked_sizes, save_canonical

FIXTURE_FORMAT = "1"
GENERATOR = "tools/reference/make_gateloop_fixtures.py"
BATCH = 2
DECODE_STEPS = 5
GREEDY_TOKENS = 16
CLI_PROMPT = "GateLoop: "
MAX_FILE_BYTES = 1_000_000

# Transformer(...) keyword arguments per fixture; T = prompt length (not a multiple of any default chunk).
FIXTURES = [
    # Four heads of dim 8 (one complex scalar gate per head), swish gate, dim_inner = dim.
    dict(name="heads4", seed=2001, T=41, kw=dict(num_tokens=256, dim=32, depth=2, gate_loop_heads=4)),
    # Max-headed (the package default, heads = dim_inner, P = N = 1): an elementwise complex scan.
    dict(name="max_heads", seed=2002, T=41, kw=dict(num_tokens=256, dim=32, depth=2)),
    # dim_inner 48 != dim, 6 heads of 8, sub-LN (LayerNorm(48)) before the gate, ff_mult 2, 3 layers.
    dict(name="sub_ln_inner", seed=2003, T=37,
         kw=dict(num_tokens=256, dim=32, depth=3, gate_loop_heads=6, dim_gate_looped_attn=48, sub_ln=True,
                 ff_mult=2)),
    # No swish gate and dim_inner = dim: to_out is an Identity (no out projection at all). 8 heads of 4.
    dict(name="no_gate", seed=2004, T=41,
         kw=dict(num_tokens=256, dim=32, depth=2, gate_loop_heads=8, attn_add_swish_gating=False)),
    # ablate_complex: a = sigmoid(|Re z|) . sign(Re z), a real (possibly negative) gate per head.
    dict(name="ablate_complex", seed=2005, T=41,
         kw=dict(num_tokens=256, dim=32, depth=2, gate_loop_heads=4, ablate_complex=True)),
]


def perturb(model, gen):
    """The package's default init, then: norm gains 1 +- 0.15 and sub-LN affine parameters random (so a wrong
    gain shows), and the to_a biases steered so the transition magnitudes spread: head h gets a bias of length
    r_h (linspace 0..5) at a random angle, so |a| = sigmoid(|z|) covers about (0.5, 0.995) and the phases differ
    per head and move with the input."""
    def randn(*shape, std=1.0):
        return torch.randn(*shape, generator=gen) * std

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.gamma") or name.endswith(".0.gamma"):
                p.copy_(1.0 + randn(*p.shape, std=0.15))
            elif name.endswith("maybe_sub_ln.weight"):
                p.copy_(1.0 + randn(*p.shape, std=0.2))
            elif name.endswith("maybe_sub_ln.bias"):
                p.copy_(randn(*p.shape, std=0.1))
            elif name.endswith("to_a.0.bias"):
                H = p.shape[0] // 2
                r = torch.linspace(0.0, 5.0, H)
                ang = torch.rand(H, generator=gen) * 2 * math.pi - math.pi
                p.copy_(torch.stack([r * torch.cos(ang), r * torch.sin(ang)], dim=-1).reshape(-1))


def scan_states(attn, u, ablate_complex):
    """Final recurrent state of GateLoopedAttention `attn` on normed input u (b, T, D): the module's own
    projections and transition activation, then the package's associative_scan with the operator of its
    gate_loop_operator; returns the scanned kv (b*h, T, d, e) and the state in our (b, H, P=e, N=d) layout."""
    q, k, v = attn.to_qkv(u).chunk(3, dim=-1)
    q, k, v = map(attn.split_heads, (q, k, v))
    z = attn.to_a(u)
    f = attn.frac_gradient_state_transition
    z = z * f + z.detach() * (1 - f)  # forward-identical only up to rounding: replayed as the module does it
    a = torch.view_as_complex(z)
    if ablate_complex:
        a = a.real + 0.j
    a = torch.polar(a.abs().sigmoid(), a.angle())
    kv = torch.einsum('b n d, b n e -> b n d e', k, v) + 0.j
    _, kv = associative_scan(lambda x, y: (y[0] * x[0], y[0] * x[1] + y[1]), (a, kv))
    y = torch.einsum('b n d, b n d e -> b n e', q, kv.real)
    last = rearrange(kv[:, -1], '(b h) d e -> b h e d', h=attn.heads)
    return y, last


def run(model, ids, kw):
    """Forward with hooks: every tap of the docstring, plus the states."""
    taps, hooks = {}, []
    ablate = kw.get("ablate_complex", False)

    def keep(name, t):
        taps[name] = t.detach().clone()

    for l, (attn, ff) in enumerate(model.layers):
        gl = attn.fn
        hooks.append(attn.register_forward_pre_hook(lambda m, a, l=l: keep(f"hidden.{l}", a[0])))
        hooks.append(attn.norm.register_forward_hook(lambda m, a, o, l=l: keep(f"attn_norm.{l}", o)))
        hooks.append(gl.register_forward_hook(lambda m, a, o, l=l: keep(f"mixer_out.{l}", o)))
        hooks.append(gl.maybe_sub_ln.register_forward_pre_hook(lambda m, a, l=l: keep(f"gl_y.{l}", a[0])))
        hooks.append(gl.to_out.register_forward_pre_hook(lambda m, a, l=l: keep(f"gl_gated.{l}", a[0])))

        def on_a(m, a, o, l=l, H=gl.heads, f=gl.frac_gradient_state_transition):
            z = torch.view_as_complex(o * f + o * (1 - f))  # ((b h), T, 1, 1), as the module rounds it
            if ablate:
                z = z.real + 0.j
            keep(f"gl_log_decay.{l}", rearrange(z.abs().sigmoid().log(), '(b h) n 1 1 -> b n h', h=H))
            keep(f"gl_phase.{l}", rearrange(z.angle(), '(b h) n 1 1 -> b n h', h=H))
        hooks.append(gl.to_a.register_forward_hook(on_a))
        hooks.append(ff.norm.register_forward_hook(lambda m, a, o, l=l: keep(f"ffn_norm.{l}", o)))
        hooks.append(ff.fn.register_forward_hook(lambda m, a, o, l=l: keep(f"ffn_out.{l}", o)))
    L = len(model.layers)
    hooks.append(model.to_logits[0].register_forward_pre_hook(lambda m, a: keep(f"hidden.{L}", a[0])))
    hooks.append(model.to_logits[0].register_forward_hook(lambda m, a, o: keep("final_hidden", o)))
    with torch.no_grad():
        logits = model(ids)
        for l, (attn, _) in enumerate(model.layers):
            y, st = scan_states(attn.fn, taps[f"attn_norm.{l}"], ablate)
            y = rearrange(y, '(b h) n e -> b n (h e)', h=attn.fn.heads)
            assert torch.equal(y, taps[f"gl_y.{l}"]), "re-scan must reproduce the module's output exactly"
            taps[f"state.{l}.ssm"] = st.real.contiguous()
            taps[f"state.{l}.ssm_im"] = st.imag.contiguous()
    for h in hooks:
        h.remove()
    taps["logits"] = logits
    return taps


def greedy(model, seq, n):
    """Argmax continuation of seq (1, T), re-running the prefix per token; returns ids and the smallest top-2
    margin met on the way."""
    out, margin = [], float("inf")
    with torch.no_grad():
        for _ in range(n):
            top2 = model(seq)[0, -1].topk(2)
            margin = min(margin, (top2.values[0] - top2.values[1]).item())
            out.append(top2.indices[0].item())
            seq = torch.cat([seq, top2.indices[:1].view(1, 1)], dim=1)
    return out, margin


def byte_tokenizer(path):
    """A GPT-2-style byte-level BPE with the 256 byte tokens only (id = byte value) and no merges."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):  # GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256 + n
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    vocab = {chr(c): b for b, c in zip(bs, cs)}
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = tokenizers.decoders.ByteLevel()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tok.save(path)
    assert tok.encode(CLI_PROMPT).ids == list(CLI_PROMPT.encode()), "id must equal the byte value"


def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item()


def build(fx, out_root):
    name, kw, T = fx["name"], fx["kw"], fx["T"]
    gen = torch.Generator().manual_seed(fx["seed"])
    torch.manual_seed(fx["seed"])
    model = Transformer(**kw).eval()
    perturb(model, gen)
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    cfg = {"model_type": "gateloop", "source": "gateloop-transformer==0.2.5 gateloop_transformer.Transformer",
           **kw}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_canonical(sd, os.path.join(d, "model.safetensors"), {"format": "pt"})

    V = kw["num_tokens"]
    ids = torch.randint(0, V, (BATCH, T + DECODE_STEPS), generator=gen)
    prompt, dec = ids[:, :T], ids[:, T:]
    taps = run(model, prompt, kw)
    # Decode references: re-run every prefix (the package keeps no cache for Transformer).
    dec_logits = []
    with torch.no_grad():
        for s in range(DECODE_STEPS):
            dec_logits.append(model(ids[:, :T + s + 1])[:, -1])
    full = run(model, ids, kw)
    # Greedy goldens: row 0 of the prompt, and the CLI prompt's bytes.
    greedy_ids, margin = greedy(model, prompt[:1], GREEDY_TOKENS)
    cli_ids = torch.tensor([list(CLI_PROMPT.encode())], dtype=torch.int64)
    cli_greedy, cli_margin = greedy(model, cli_ids, GREEDY_TOKENS)
    margin = min(margin, cli_margin)
    assert margin > 1e-4, (name, margin)
    tensors = {"input_ids": prompt.contiguous(), "decode_ids": dec.contiguous(),
               "decode_logits": torch.stack(dec_logits, dim=1).contiguous(),
               "greedy_ids": torch.tensor(greedy_ids, dtype=torch.int64),
               "cli_prompt_ids": cli_ids[0].contiguous(), "cli_greedy_ids": torch.tensor(cli_greedy, dtype=torch.int64)}
    tensors.update({k: v.contiguous() for k, v in taps.items()})
    for l in range(len(model.layers)):
        for part in ("ssm", "ssm_im"):
            tensors[f"decode_state.{l}.{part}"] = full[f"state.{l}.{part}"]

    # Cross-checks: fp64 run of the same model; prefix logits of the long run vs the prompt run (causality).
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        logits64 = m64(prompt)
    r = {"name": name, "T": T,
         "fp32_vs_fp64_logits": maxdiff(taps["logits"], logits64),
         "logits_absmax": taps["logits"].abs().max().item(),
         "prefix_vs_prompt_logits": maxdiff(full["logits"][:, :T], taps["logits"]),
         "greedy_margin": margin,
         "decode_rerun_vs_long_run": maxdiff(tensors["decode_logits"], full["logits"][:, T:]),
         "state_absmax": max(taps[f"state.{l}.ssm"].abs().max().item() for l in range(len(model.layers))),
         "decay_range": (min(taps[f"gl_log_decay.{l}"].exp().min().item() for l in range(len(model.layers))),
                         max(taps[f"gl_log_decay.{l}"].exp().max().item() for l in range(len(model.layers))))}
    gl = model.layers[0][0].fn
    meta = {
        "fixture_format": FIXTURE_FORMAT,
        "generator": GENERATOR,
        "upstream": "gateloop-transformer 0.2.5 (lucidrains), gateloop_transformer.Transformer",
        "name": name,
        "seed": str(fx["seed"]),
        "dtype": "float32",
        "device": "cpu",
        "torch_threads": "1",
        "versions": json.dumps({p: importlib.metadata.version(p) for p in
                                ("torch", "gateloop-transformer", "einops", "safetensors", "numpy", "tokenizers")}, sort_keys=True),
        "python": platform.python_version(),
        "batch": str(BATCH),
        "T": str(T),
        "decode_steps": str(DECODE_STEPS),
        "dims": json.dumps({"D": kw["dim"], "L": kw["depth"], "H": gl.heads,
                            "d_inner": gl.to_qkv.out_features // 3, "V": V}, sort_keys=True),
        "decode_reference": "prefix re-run per step (Transformer has no cache in 0.2.5)",
        "state_layout": "(b, H, P, N) = upstream scanned kv[:, -1] (b*h, d=N key, e=P value) transposed",
        "fp32_vs_fp64_logits_maxabs": f"{r['fp32_vs_fp64_logits']:.3e}",
        "greedy_min_top2_margin": f"{margin:.3e}",
    }
    save_canonical(tensors, os.path.join(d, "reference.safetensors"), meta)
    r["sizes"] = checked_sizes(d, MAX_FILE_BYTES)
    return r


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_root = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/gateloop"
    byte_tokenizer(os.path.join(out_root, "bytes", "tokenizer.json"))
    print(f"{'name':15} {'T':>3} {'|logits|':>8} {'fp32~fp64':>9} {'prefix':>7} {'dec~long':>8} "
          f"{'|state|':>7} {'|a| range':>13} {'greedy margin':>13}  sizes")
    for fx in FIXTURES:
        r = build(fx, out_root)
        print(f"{r['name']:15} {r['T']:>3} {r['logits_absmax']:>8.2f} {r['fp32_vs_fp64_logits']:>9.1e} "
              f"{r['prefix_vs_prompt_logits']:>7.1e} {r['decode_rerun_vs_long_run']:>8.1e} "
              f"{r['state_absmax']:>7.2f} {r['decay_range'][0]:.3f}..{r['decay_range'][1]:.3f} {r['greedy_margin']:>13.1e}  {r['sizes']}")


if __name__ == "__main__":
    main()
