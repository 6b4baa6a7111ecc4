#!/usr/bin/env python3
"""GGUF cross-check fixtures written by the PyPI `gguf` package (ggml's own Python reader/writer):
  tests/fixtures/gguf/all_types.gguf      every metadata value type, and tensors F32, F16, BF16, Q8_0, Q4_0,
                                          Q4_1, Q5_0, Q5_1 quantized by gguf.quants (ggml's reference rounding)
  tests/fixtures/gguf/all_types.safetensors  for each tensor: `src.<type>` the f32 source and `deq.<type>` what
                                          gguf.quants.dequantize returns
  tests/fixtures/gguf/k_quants.gguf       tensors Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (3 rows of 512): random block
                                          bytes with sane f16 scales (gguf has no k-quant quantizer)
  tests/fixtures/gguf/k_quants.safetensors  `deq.<type>`: what gguf.quants.dequantize returns for them
Our reader must parse every value, our dequantizer must reproduce `deq.*` bit for bit, and our quantizer must
reproduce the bytes gguf wrote. The reverse direction (files we write, read by gguf) is checked by
tools/reference/check_gguf_roundtrip.py.
Usage: /opt/refenv/bin/python tools/reference/make_gguf_fixtures.py
"""
import os

import gguf
import numpy as np
import safetensors.numpy
from gguf import GGMLQuantizationType as Q

OUT = "tests/fixtures/gguf"
TYPES = {"f32": Q.F32, "f16": Q.F16, "bf16": Q.BF16, "q8_0": Q.Q8_0, "q4_0": Q.Q4_0, "q4_1": Q.Q4_1,
         "q5_0": Q.Q5_0, "q5_1": Q.Q5_1}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(os.path.join(OUT, "all_types.gguf"), "llama")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 3.25)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo wörld ✓")
    w.add_uint64("test.u64", 2**63 + 5)
    w.add_int64("test.i64", -(2**62))
    w.add_float64("test.f64", -1.0e-300)
    w.add_array("test.array_i32", [1, -2, 3])
    w.add_array("test.array_str", ["a", "", "ccc"])
    w.add_array("test.array_f32", [0.5, -1.5])
    tensors = {}
    for name, qt in TYPES.items():
        src = (rng.standard_normal((4, 64)) * np.array([[0.01], [1.0], [30.0], [1e-3]])).astype(np.float32)
        src[3, :5] = 0.0
        if qt in (Q.F32,):
            data, raw = src, None
        elif qt == Q.F16:
            data, raw = src.astype(np.float16), None
        else:
            data, raw = gguf.quants.quantize(src, qt), qt
        w.add_tensor(f"t.{name}", data, raw_dtype=raw)
        tensors[f"src.{name}"] = src
        tensors[f"deq.{name}"] = gguf.quants.dequantize(gguf.quants.quantize(src, qt), qt).astype(np.float32) \
            if qt not in (Q.F32, Q.F16) else data.astype(np.float32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    meta = {"fixture_format": "1", "generator": "tools/reference/make_gguf_fixtures.py",
            "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0", "numpy": np.__version__}
    safetensors.numpy.save_file(tensors, os.path.join(OUT, "all_types.safetensors"), metadata=meta)
    k_quants()
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


# k-quant block size in bytes and the offsets of its f16 fields (scale d, and dmin where it has one).
K_TYPES = {"q2_k": (Q.Q2_K, 84, [80, 82]), "q3_k": (Q.Q3_K, 110, [108]), "q4_k": (Q.Q4_K, 144, [0, 2]),
           "q5_k": (Q.Q5_K, 176, [0, 2]), "q6_k": (Q.Q6_K, 210, [208])}


def k_quants():
    rng = np.random.default_rng(11)
    w = gguf.GGUFWriter(os.path.join(OUT, "k_quants.gguf"), "llama")
    tensors = {}
    rows, cols = 3, 512
    for name, (qt, nbytes, f16_at) in K_TYPES.items():
        blocks = rng.integers(0, 256, size=(rows * cols // 256, nbytes), dtype=np.uint8)
        for off in f16_at:  # scales in a physical range (random bytes would give inf/nan halves)
            blocks[:, off:off + 2] = rng.uniform(1e-3, 0.1, size=(len(blocks), 1)).astype(np.float16).view(np.uint8)
        data = blocks.reshape(rows, -1)
        w.add_tensor(f"t.{name}", data, raw_dtype=qt)
        tensors[f"deq.{name}"] = gguf.quants.dequantize(data, qt).astype(np.float32).reshape(rows, cols)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    meta = {"fixture_format": "1", "generator": "tools/reference/make_gguf_fixtures.py", "numpy": np.__version__}
    safetensors.numpy.save_file(tensors, os.path.join(OUT, "k_quants.safetensors"), metadata=meta)


if __name__ == "__main__":
    main()
