#!/usr/bin/env python3
"""Tiny random LlamaForCausalLM checkpoints in the Hugging Face layout, with transformers' outputs, for the
`llamba convert` (HF import) path. Writes tests/fixtures/llama_hf/<name>/{config.json, model.safetensors,
reference.safetensors}:
  input_ids (T,) i64, logits (T, V) for a short prompt;
  long_ids (TL,) i64 with TL > 8192 and long_logits (8, V) at its last 8 positions: llama3 rope scaling only
  changes the low frequencies, which a short prompt barely exercises (docs/models.md §"Attention and RoPE").
Upstream: transformers LlamaForCausalLM, eager attention, fp32, CPU.
Usage: /opt/refenv/bin/python tools/reference/make_llama_hf_fixtures.py
"""
import os

import numpy as np
import safetensors.numpy
import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

FIXTURE_FORMAT = "1"
OUT = "tests/fixtures/llama_hf"


def make(name, seed, tied, rope_scaling, long_len):
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=160, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-5,
                      rope_theta=500000.0, rope_scaling=rope_scaling, max_position_embeddings=131072,
                      tie_word_embeddings=tied, attn_implementation="eager")
    model = LlamaForCausalLM(cfg).float().eval()
    with torch.no_grad():  # non-trivial norms so a wrong norm mapping shows
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    for extra in ("generation_config.json",):
        if os.path.exists(os.path.join(d, extra)):
            os.remove(os.path.join(d, extra))
    g = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, cfg.vocab_size, (40,), generator=g)
    long_ids = torch.randint(0, cfg.vocab_size, (long_len,), generator=g)
    with torch.no_grad():
        logits = model(ids[None]).logits[0]
        long_logits = model(long_ids[None]).logits[0, -8:]
    tensors = {"input_ids": ids.numpy().astype(np.int64), "logits": logits.numpy(),
               "long_ids": long_ids.numpy().astype(np.int64), "long_logits": long_logits.numpy()}
    meta = {"fixture_format": FIXTURE_FORMAT, "generator": "tools/reference/make_llama_hf_fixtures.py",
            "seed": str(seed), "torch": torch.__version__, "transformers": transformers.__version__,
            "rope_scaling": str(rope_scaling), "tied": str(tied)}
    safetensors.numpy.save_file(tensors, os.path.join(d, "reference.safetensors"), metadata=meta)
    sizes = {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)}
    print(name, sizes)


def main():
    llama3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 8192}
    make("tiny_llama3_untied", 11, False, llama3, 8200)
    make("tiny_tied", 12, True, None, 300)


if __name__ == "__main__":
    main()
