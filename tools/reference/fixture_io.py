"""Pieces every fixture generator shares: a byte-reproducible safetensors writer and the AdamW loss trajectory
the training fixtures record."""
import json
import os
import struct

import safetensors
import safetensors.torch
import torch


def save_canonical(tensors, path, metadata):
    """safetensors.torch.save_file, then the header rewritten with __metadata__ keys sorted and tensors in data
    order: the Rust writer keeps __metadata__ in a HashMap whose order changes from run to run, so re-runs would
    differ. Same byte count, so data offsets are unchanged."""
    safetensors.torch.save_file(tensors, path, metadata=metadata)
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    md = header.pop("__metadata__", None)
    canon = {"__metadata__": dict(sorted(md.items()))} if md is not None else {}
    for k in sorted(header, key=lambda k: header[k]["data_offsets"][0]):
        canon[k] = header[k]
    text = json.dumps(canon, separators=(",", ":"), ensure_ascii=True).encode()
    assert len(text) <= n, (len(text), n)
    with open(path, "wb") as f:
        f.write(data[:8] + text + b" " * (n - len(text)) + data[8 + n:])
    with safetensors.safe_open(path, "pt") as f:  # still readable, same tensors
        assert sorted(f.keys()) == sorted(tensors)


def adamw_losses(named, loss_fn, lr, betas, eps, wd, steps, decays):
    """Losses before each of `steps` torch.optim.AdamW steps on named parameters [(name, p)], weight decay `wd`
    on those where decays(name, p) and none on the rest."""
    opt = torch.optim.AdamW([{"params": [p for n, p in named if decays(n, p)], "weight_decay": wd},
                             {"params": [p for n, p in named if not decays(n, p)], "weight_decay": 0.0}],
                            lr=lr, betas=betas, eps=eps)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        l = loss_fn()
        losses.append(l.item())
        l.backward()
        opt.step()
    return losses


def checked_sizes(d, limit):
    """Byte size of every file in fixture folder d; each must stay under `limit` (fixtures are committed)."""
    sizes = {f: os.path.getsize(os.path.join(d, f)) for f in sorted(os.listdir(d))}
    for f, n in sizes.items():
        assert n < limit, (d, f, n)
    return sizes
