#!/usr/bin/env python3
"""MOHAWK teacher taps of the default model, SmolLM2-135M-Instruct, from transformers (the stage-1 and stage-2
targets that make_smollm2_fixtures.py does not record).

Upstream: transformers `LlamaForCausalLM` loaded from the same Q4_1 GGUF (dequantized to fp32), eager attention,
fp32 on the CPU, `output_attentions=True` and `output_hidden_states=True`; the attention output before its residual
add is the `self_attn` module's first output, taken by a forward hook. Writes tests/fixtures/smollm2/taps.safetensors:
  input_ids (T,) i64: the first T_TAPS tokens of make_smollm2_fixtures.py's prompt 0;
  attn.{l} (Hq, T, T): softmax probabilities per query head (causal: 0 above the diagonal);
  mixer_out.{l} (T, D): o_proj's output; hidden.{l} (T, D): the residual stream entering layer l;
for l in LAYERS (first, second, middle, last).
Usage: /opt/refenv/bin/python tools/reference/make_smollm2_taps_fixture.py models/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import os
import sys

import numpy as np
import safetensors.numpy
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_smollm2_fixtures import PROMPTS  # noqa: E402

FIXTURE_FORMAT = "1"
T_TAPS = 24
LAYERS = [0, 1, 15, 29]


def main():
    gguf_path = os.path.abspath(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/smollm2/taps.safetensors"
    d, name = os.path.split(gguf_path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, torch_dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    ids = tok(PROMPTS[0], add_special_tokens=False, return_tensors="pt").input_ids[:, :T_TAPS]
    mixer_out = {}
    hooks = [model.model.layers[l].self_attn.register_forward_hook(
        lambda mod, args, output, l=l: mixer_out.__setitem__(l, output[0][0].detach().clone()))
        for l in LAYERS]
    with torch.no_grad():
        res = model(ids, output_attentions=True, output_hidden_states=True)
    for h in hooks:
        h.remove()
    tensors = {"input_ids": ids[0].numpy().astype(np.int64)}
    for l in LAYERS:
        tensors[f"attn.{l}"] = res.attentions[l][0].float().numpy().copy()
        tensors[f"mixer_out.{l}"] = mixer_out[l].float().numpy().copy()
        tensors[f"hidden.{l}"] = res.hidden_states[l][0].float().numpy().copy()
    meta = {"fixture_format": FIXTURE_FORMAT, "generator": "tools/reference/make_smollm2_taps_fixture.py",
            "model": name, "torch": torch.__version__, "transformers": transformers.__version__,
            "layers": ",".join(map(str, LAYERS)), "attn_implementation": "eager", "dtype": "float32"}
    safetensors.numpy.save_file(tensors, out, metadata=meta)
    print(f"{out}: T={ids.shape[1]} layers={LAYERS} size={os.path.getsize(out)}")


if __name__ == "__main__":
    main()
