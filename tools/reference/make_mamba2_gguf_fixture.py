#!/usr/bin/env python3
"""A Mamba-2 GGUF written the way llama.cpp's converter writes it, by ggml's own `gguf` package, so our loader is
checked against llama.cpp's key spellings, tensor names and shapes rather than our own transcription of them.

Input: tests/fixtures/mamba2/groups2/ (made by make_mamba2_fixtures.py; G = 2, so the (G, d_inner/G) ssm_norm reshape
matters). Output: tests/fixtures/mamba2/groups2.llamacpp.gguf. The steps follow llama.cpp's `Mamba2Model`
(convert_hf_to_gguf.py / conversion/mamba.py at ggml-org/llama.cpp a458664, read, not copied): hparams through the
GGUFWriter add_* helpers (context_length 2^20, feed_forward_length 0, head_count 0, ssm.* with time_step_rank = H,
layer_norm_rms_epsilon), tensor names through gguf.get_tensor_name_map(MAMBA2) after renaming `dt_bias` to
`dt_proj.bias`, conv1d weight squeezed to (Cc, K), A_log and D reshaped to (H, 1), A_log -> -exp(A_log), norm weight
reshaped to (G, d_inner/G). No tokenizer (llama.cpp would embed GPT-NeoX's; not needed to run the model).
Usage: /opt/refenv/bin/python tools/reference/make_mamba2_gguf_fixture.py
"""
import json
import os

import gguf
import numpy as np
from safetensors.numpy import load_file

SRC = "tests/fixtures/mamba2/groups2"
OUT = "tests/fixtures/mamba2/groups2.llamacpp.gguf"


def main():
    cfg = json.load(open(os.path.join(SRC, "config.json")))
    sd = load_file(os.path.join(SRC, "model.safetensors"))
    L, D, G = cfg["num_hidden_layers"], cfg["hidden_size"], cfg["n_groups"]
    d_inner = cfg["expand"] * D
    w = gguf.GGUFWriter(OUT, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.MAMBA2])
    w.add_name("groups2 (llama.cpp layout)")
    w.add_context_length(2**20)
    w.add_embedding_length(D)
    w.add_feed_forward_length(0)
    w.add_head_count(0)
    w.add_block_count(L)
    w.add_ssm_conv_kernel(cfg["conv_kernel"])
    w.add_ssm_inner_size(d_inner)
    w.add_ssm_state_size(cfg["state_size"])
    w.add_ssm_time_step_rank(d_inner // cfg["head_dim"])
    w.add_ssm_group_count(G)
    w.add_layer_norm_rms_eps(cfg["layer_norm_epsilon"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.MAMBA2, L)
    for name in sorted(sd):  # safetensors order is sorted too
        data = sd[name].astype(np.float32)
        hf = name[: -len(".dt_bias")] + ".dt_proj.bias" if name.endswith(".dt_bias") else name
        new = names.get_name(hf, try_suffixes=(".weight", ".bias"))
        assert new is not None, name
        if new.endswith("ssm_conv1d.weight"):
            data = data.squeeze()
        elif new.endswith(("ssm_a", "ssm_d")):
            data = data.reshape((*data.shape, 1))
        elif new.endswith("ssm_norm.weight"):
            data = data.reshape((G, d_inner // G))
        if name.endswith(".A_log"):
            data = -np.exp(data)
        w.add_tensor(new, np.ascontiguousarray(data))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
