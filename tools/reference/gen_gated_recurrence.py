#!/usr/bin/env python3
"""Fixture for gated_recurrence: lucidrains gateloop-transformer's `gate_loop_operator` (the paper's
associative-scan pseudocode, complex gates, Re after the q readout) on small random fp64 inputs.

Writes tests/fixtures/ops/gated_recurrence_gateloop.safetensors with, per case ("vector": one complex gate per
key channel; "scalar": one per head), q, k (BH, T, N), v (BH, T, P), log_decay = log|a| and phase = arg-sum θ
(BH, T, N) or (BH, T), and the upstream output y (BH, T, P). Read by tests/ops/test_gated_recurrence_fixture.cpp.
Run: /opt/refenv/bin/python tools/reference/gen_gated_recurrence.py   (versions: tools/reference/requirements.txt)
"""
import importlib.metadata
import json
import os

import torch
from gateloop_transformer.gateloop_transformer import gate_loop_operator
from safetensors.torch import save_file

FIXTURE_FORMAT = 1
SEED = 20260101
BH, T, N, P = 3, 97, 4, 3


def case(gen, vector):
    q = torch.randn(BH, T, N, generator=gen, dtype=torch.float64) / N**0.5
    k = torch.randn(BH, T, N, generator=gen, dtype=torch.float64)
    v = torch.randn(BH, T, P, generator=gen, dtype=torch.float64)
    gate_shape = (BH, T, N) if vector else (BH, T)
    m = torch.randn(*gate_shape, generator=gen, dtype=torch.float64) + 1.0
    theta = torch.randn(*gate_shape, generator=gen, dtype=torch.float64)
    log_decay = torch.nn.functional.logsigmoid(m)  # |a| = sigmoid(m)
    a = torch.exp(torch.complex(log_decay, theta))
    a = a[..., None] if vector else a[..., None, None]  # broadcast over (N, P) of the kv outer product
    y = gate_loop_operator(q, k, v, a)
    return {"q": q, "k": k, "v": v, "log_decay": log_decay, "phase": theta, "y": y}


def main():
    gen = torch.Generator().manual_seed(SEED)
    tensors = {}
    for name, vector in (("vector", True), ("scalar", False)):
        for key, t in case(gen, vector).items():
            tensors[f"{name}.{key}"] = t.contiguous()
    meta = {
        "fixture_format": str(FIXTURE_FORMAT),
        "generator": "tools/reference/gen_gated_recurrence.py",
        "upstream": "gateloop_transformer.gateloop_transformer.gate_loop_operator",
        "seed": str(SEED),
        "dtype": "float64",
        "versions": json.dumps({p: importlib.metadata.version(p) for p in ("torch", "gateloop-transformer")}),
    }
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    out = os.path.join(root, "tests", "fixtures", "ops", "gated_recurrence_gateloop.safetensors")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    save_file(tensors, out, metadata=meta)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
