#!/usr/bin/env python3
"""Fixtures for `llamba quantize`: what llama.cpp's own `llama-quantize` writes for small F32 models.

Three F32 models (llama with an untied head and 8 layers, so the Q4_K_M/Q5_K_M layer rules all fire; llama with a
tied head; mamba2) are written by ggml's `gguf` package. Their tensors come from a counter-based generator that C++
reproduces bit for bit (splitmix64 hashes → 24-bit uniforms → float32 arithmetic with exact power-of-two scales), so
only the recipe is committed, not the megabytes: rows of different magnitudes, all-zero blocks, one-signed blocks,
blocks below ggml's 1e-15 group threshold, blocks whose scales underflow f16, outliers. Awkward shapes: rows of 64
and 40 columns (k-quant and 32-block fallbacks), 256-column rows for the k-quants themselves.

Each model is quantized by llama-quantize (no importance matrix) to every type llamba writes. The fixture
tests/fixtures/quantize/llama_quantize.json records, per model, the recipe and per output type the tensors in file
order with their ggml type and a 64-bit hash of their bytes (mix64 below), and the hash of the whole file.
Usage: LLAMA_QUANTIZE=/path/to/llama-quantize /opt/refenv/bin/python tools/reference/make_quantize_fixtures.py
(llama-quantize built from the PyPI sdist llama-cpp-python==0.3.36, vendor/llama.cpp; see docs/quality.md).
"""
import json
import os
import subprocess
import tempfile

import gguf
import numpy as np

OUT = "tests/fixtures/quantize/llama_quantize.json"
TYPES = ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"]
U64 = np.uint64


def splitmix64(x):
    with np.errstate(over="ignore"):
        z = x + U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
        return z ^ (z >> U64(31))


def uniform24(h):
    return (h >> U64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def tensor_values(seed, shape):
    """The generator tests/quantize/quantize_fixture.h mirrors: every step is one float32 operation."""
    n = int(np.prod(shape))
    ncols = shape[-1]
    i = np.arange(n, dtype=U64)
    base = U64(seed) << U64(32)
    h1 = splitmix64(base + i)
    h2 = splitmix64(h1)
    h3 = splitmix64(h2)
    v = ((uniform24(h1) + uniform24(h2)) + uniform24(h3)) - np.float32(1.5)
    row = i // U64(ncols)
    row_exp = (splitmix64(base + U64(0x5555_0000) + row) >> U64(60)).astype(np.int64) - 10  # 2^-10 .. 2^5
    x = v * np.ldexp(np.float32(1), row_exp).astype(np.float32)
    block = i // U64(32)
    kind = (splitmix64(base + U64(0xAAAA_0000) + block) >> U64(59)).astype(np.int64)  # 0..31
    x = np.where(kind == 0, np.float32(0), x)
    x = np.where(kind == 1, np.abs(x), x)
    x = np.where(kind == 2, -np.abs(x), x)
    x = np.where(kind == 3, x * np.float32(2.0 ** -52), x)  # below ggml's GROUP_MAX_EPS
    x = np.where(kind == 4, x * np.float32(2.0 ** -44), x)  # scales underflow f16
    first = (i % U64(32)) == U64(0)
    x = np.where((kind == 5) & first, x * np.float32(64), x)  # one outlier
    return x.astype(np.float32).reshape(shape)


def mix64(data):
    """Σ word_i · (splitmix64(i) | 1) mod 2^64 over the little-endian 64-bit words (zero-padded), xor the length."""
    b = np.frombuffer(bytes(data), dtype=np.uint8)
    pad = (-len(b)) % 8
    w = np.concatenate([b, np.zeros(pad, np.uint8)]).view("<u8")
    c = splitmix64(np.arange(len(w), dtype=U64)) | U64(1)
    with np.errstate(over="ignore"):
        return int(np.sum(w * c, dtype=U64)) ^ len(b)


def llama_model(name, n_layers, tied, odd_tensor):
    D, F, H, Hkv, hd, V = 256, 256, 2, 1, 32, 64
    meta = [["general.architecture", "string", "llama"], ["general.name", "string", name],
            ["llama.context_length", "u32", 128], ["llama.embedding_length", "u32", D],
            ["llama.block_count", "u32", n_layers], ["llama.feed_forward_length", "u32", F],
            ["llama.rope.dimension_count", "u32", hd], ["llama.attention.head_count", "u32", H],
            ["llama.attention.head_count_kv", "u32", Hkv], ["llama.attention.key_length", "u32", hd],
            ["llama.attention.value_length", "u32", hd],
            ["llama.attention.layer_norm_rms_epsilon", "f32", 1e-5], ["llama.vocab_size", "u32", V],
            ["general.file_type", "u32", 0]]
    t = [["token_embd.weight", [V, D]], ["output_norm.weight", [D]]]
    if not tied:
        t.append(["output.weight", [V, D]])
    for l in range(n_layers):
        p = f"blk.{l}."
        t += [[p + "attn_norm.weight", [D]], [p + "attn_q.weight", [H * hd, D]],
              [p + "attn_k.weight", [Hkv * hd, D]], [p + "attn_v.weight", [Hkv * hd, D]],
              [p + "attn_output.weight", [D, H * hd]], [p + "ffn_norm.weight", [D]],
              [p + "ffn_gate.weight", [F, D]], [p + "ffn_up.weight", [F, D]], [p + "ffn_down.weight", [D, F]]]
    if odd_tensor:  # 40 columns: no block type fits, llama-quantize falls back to F16
        t.append(["blk.0.odd.weight", [8, 40]])
    return name, meta, t


def mamba2_model():
    D, d_inner, N, G, H, K, V, L = 256, 512, 16, 2, 8, 4, 64, 2
    meta = [["general.architecture", "string", "mamba2"], ["general.name", "string", "mamba2_tiny"],
            ["mamba2.context_length", "u32", 1048576], ["mamba2.embedding_length", "u32", D],
            ["mamba2.feed_forward_length", "u32", 0], ["mamba2.attention.head_count", "u32", 0],
            ["mamba2.block_count", "u32", L], ["mamba2.ssm.conv_kernel", "u32", K],
            ["mamba2.ssm.inner_size", "u32", d_inner], ["mamba2.ssm.state_size", "u32", N],
            ["mamba2.ssm.time_step_rank", "u32", H], ["mamba2.ssm.group_count", "u32", G],
            ["mamba2.attention.layer_norm_rms_epsilon", "f32", 1e-5], ["general.file_type", "u32", 0]]
    cc = d_inner + 2 * G * N
    t = [["token_embd.weight", [V, D]], ["output_norm.weight", [D]], ["output.weight", [V, D]]]
    for l in range(L):
        p = f"blk.{l}."
        t += [[p + "attn_norm.weight", [D]], [p + "ssm_in.weight", [2 * d_inner + 2 * G * N + H, D]],
              [p + "ssm_conv1d.weight", [cc, K]], [p + "ssm_conv1d.bias", [cc]], [p + "ssm_dt.bias", [H]],
              [p + "ssm_a", [H, 1]], [p + "ssm_d", [H, 1]], [p + "ssm_norm.weight", [G, d_inner // G]],
              [p + "ssm_out.weight", [D, d_inner]]]
    return "mamba2_tiny", meta, t


def write_input(path, meta, tensors):
    w = gguf.GGUFWriter(path, meta[0][2])
    for key, kind, value in meta[1:]:
        {"string": w.add_string, "u32": w.add_uint32, "f32": w.add_float32}[kind](key, value)
    for seed, (name, shape) in enumerate(tensors):
        w.add_tensor(name, tensor_values(seed + 1, shape))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    exe = os.environ["LLAMA_QUANTIZE"]
    models = [llama_model("llama_untied", 8, False, True), llama_model("llama_tied", 3, True, False), mamba2_model()]
    fixture = {"fixture_format": "1", "generator": "tools/reference/make_quantize_fixtures.py",
               "reference": "llama-quantize from llama-cpp-python==0.3.36 (vendor/llama.cpp, ggml 0.25.3)",
               "gguf": "0.19.0", "numpy": np.__version__, "models": []}
    with tempfile.TemporaryDirectory() as tmp:
        for name, meta, tensors in models:
            src = os.path.join(tmp, name + ".f32.gguf")
            write_input(src, meta, tensors)
            entry = {"name": name, "metadata": meta,
                     "tensors": [{"name": n, "shape": s, "seed": k + 1} for k, (n, s) in enumerate(tensors)],
                     "input_hash": f"{mix64(open(src, 'rb').read()):016x}", "outputs": {}}
            for qt in TYPES:
                dst = os.path.join(tmp, f"{name}.{qt}.gguf")
                subprocess.run([exe, src, dst, qt, "1"], check=True, capture_output=True)
                r = gguf.GGUFReader(dst)
                entry["outputs"][qt] = {
                    "file_hash": f"{mix64(open(dst, 'rb').read()):016x}",
                    "tensors": [[t.name, int(t.tensor_type), f"{mix64(t.data.tobytes()):016x}"] for t in r.tensors]}
            fixture["models"].append(entry)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
