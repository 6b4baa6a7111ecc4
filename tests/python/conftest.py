"""Shared fixtures: the default model, a Llamba student distilled-initialized from it (recurrent, Q8_0), and the
packaged CLI (`python -m llamba`)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import llamba

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, check: bool = True, input: str = None) -> subprocess.CompletedProcess:
    """Runs the CLI installed inside the package."""
    return subprocess.run([sys.executable, "-m", "llamba", *args], capture_output=True, text=True, check=check,
                          cwd=REPO, input=input)


@pytest.fixture(scope="session")
def model() -> llamba.Model:
    return llamba.Model(threads=2)


@pytest.fixture(scope="session")
def student(tmp_path_factory, model) -> llamba.Model:
    """A Llamba student (MOHAWK init of SmolLM2: 30 Discrete Mamba-2 layers) quantized to Q8_0 by llamba.quantize."""
    d = tmp_path_factory.mktemp("student")
    f32 = d / "student.f32.gguf"
    cli("distill", "init", "--teacher", model.info["path"], "-o", str(f32))
    q8 = d / "student.q8_0.gguf"
    llamba.quantize(f32, q8, "Q8_0")
    os.remove(f32)
    return llamba.Model(q8, threads=2)
