#!/usr/bin/env python3
"""Reference fixtures for the default model, SmolLM2-135M-Instruct (Llama architecture, Q4_1 GGUF).

Upstream: transformers `LlamaForCausalLM` loaded from the same GGUF file (transformers dequantizes every tensor to
fp32 and un-permutes llama.cpp's Q/K rows), eager attention, fp32 on the CPU; tokens from transformers' GGUF
tokenizer. Writes tests/fixtures/smollm2/prompt{i}.safetensors, one per prompt:
  input_ids (T,) i64; logits_last (V,) full row at the last position;
  logits_sample_ids (S,) i32 fixed random vocabulary subset and logits_sample (T, S);
  logits_top_ids (T, 32) i32 and logits_top (T, 32): the 32 largest logits per position;
  hidden.{l} (P, D) for l = 0..L at positions `hidden_positions` (P,) i32: transformers' hidden_states
    (hidden.0 = embeddings, hidden.{l} = residual stream entering layer l, hidden.L = after the final norm);
  greedy_ids (32,) i64: transformers' argmax continuation with its KV cache (not stopping at EOS).
Usage: /opt/refenv/bin/python tools/reference/make_smollm2_fixtures.py models/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import json
import os
import sys

import numpy as np
import safetensors.numpy
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

FIXTURE_FORMAT = "1"
PROMPTS = [
    # Encyclopedic prose.
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after "
    "the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889. Locally nicknamed "
    "\"La dame de fer\" (French for \"Iron Lady\"), it was constructed as the centerpiece of the 1889 World's Fair, "
    "and to crown the centennial anniversary of the French Revolution.",
    # Code with digits, indentation and punctuation.
    "def fibonacci(n: int) -> list[int]:\n    \"\"\"Return the first n Fibonacci numbers.\"\"\"\n    seq = [0, 1]\n"
    "    while len(seq) < n:\n        seq.append(seq[-1] + seq[-2])\n    return seq[:n]\n\n\n"
    "if __name__ == \"__main__\":\n    print(fibonacci(12))  # 0 1 1 2 3 5 8 13 21 34 55 89\n",
    # A chat-formatted conversation (ChatML, as the model's template writes it).
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nExplain in two sentences why the sky looks blue during the day and red at sunset, "
    "and mention who first described the scattering of light by small particles.<|im_end|>\n"
    "<|im_start|>assistant\nThe sky is blue because air molecules scatter short wavelengths more strongly.<|im_end|>\n"
    "<|im_start|>user\nAnd why is it red at sunset?"
    "<|im_end|>\n<|im_start|>assistant\n",
]
N_SAMPLE = 512
N_TOP = 32
N_GREEDY = 32


def greedy_continuation(model, ids):
    """Argmax decoding with the KV cache for N_GREEDY tokens, not stopping at EOS (what generate(do_sample=False)
    does until EOS; generate's min_new_tokens processor is avoided because it alters the logits)."""
    out = model(ids, use_cache=True)
    past, nxt, toks = out.past_key_values, out.logits[0, -1].argmax(), []
    for _ in range(N_GREEDY):
        toks.append(int(nxt))
        out = model(nxt.view(1, 1), past_key_values=past, use_cache=True)
        past, nxt = out.past_key_values, out.logits[0, -1].argmax()
    return np.array(toks, dtype=np.int64)


def main():
    gguf_path = os.path.abspath(sys.argv[1])
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/smollm2"
    os.makedirs(out_dir, exist_ok=True)
    d, name = os.path.split(gguf_path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, torch_dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    V = model.config.vocab_size
    rng = np.random.default_rng(1234)
    sample_ids = np.sort(rng.choice(V, size=N_SAMPLE, replace=False)).astype(np.int32)
    meta = {
        "fixture_format": FIXTURE_FORMAT,
        "generator": "tools/reference/make_smollm2_fixtures.py",
        "model": name,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": np.__version__,
        "dtype": "float32",
        "attn_implementation": "eager",
    }
    for i, prompt in enumerate(PROMPTS):
        ids = tok(prompt, add_special_tokens=False, return_tensors="pt").input_ids
        T = ids.shape[1]
        assert T >= 64, f"prompt {i} has only {T} tokens"
        with torch.no_grad():
            out = model(ids, output_hidden_states=True)
            logits = out.logits[0].float().numpy()
            greedy = greedy_continuation(model, ids)
        positions = np.array(sorted({0, 1, T // 2, T - 1}), dtype=np.int32)
        top_ids = np.argsort(-logits, axis=1, kind="stable")[:, :N_TOP].astype(np.int32)
        tensors = {
            "input_ids": ids[0].numpy().astype(np.int64),
            "logits_last": logits[-1].copy(),
            "logits_sample_ids": sample_ids,
            "logits_sample": logits[:, sample_ids].copy(),
            "logits_top_ids": top_ids,
            "logits_top": np.take_along_axis(logits, top_ids, axis=1).copy(),
            "hidden_positions": positions,
            "greedy_ids": greedy,
        }
        for l, h in enumerate(out.hidden_states):
            tensors[f"hidden.{l}"] = h[0, positions].float().numpy().copy()
        m = dict(meta, prompt=prompt, n_tokens=str(T), greedy_text=tok.decode(greedy))
        path = os.path.join(out_dir, f"prompt{i}.safetensors")
        safetensors.numpy.save_file(tensors, path, metadata={k: str(v) for k, v in m.items()})
        print(f"{path}: T={T} top1(last)={int(top_ids[-1, 0])} greedy={tok.decode(greedy)!r} "
              f"size={os.path.getsize(path)}")


if __name__ == "__main__":
    main()
