"""convert, quantize, eval_perplexity: the library calls behind `llamba convert`, `llamba quantize` and
`llamba eval perplexity`."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Optional, Union

from . import _llamba
from ._model import Model

PathLike = Union[str, os.PathLike]


def default_model_path() -> str:
    """Where the default model is found (raises llamba.Error saying how to install it when it is not)."""
    return _llamba.default_model_path()


def convert(hf_dir: PathLike, out: PathLike, outtype: str = "auto", name: str = "",
            tokenizer: Optional[PathLike] = None, for_training: bool = False) -> int:
    """Converts a Hugging Face checkpoint folder (Llama, cartesia Llamba, Mamba-2, GateLoop) to a GGUF file,
    embedding ``tokenizer`` (tiktoken file, tokenizer.json or GGUF) or the one found in ``hf_dir``.
    ``outtype``: auto (keep), f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1. Returns the number of tensors."""
    return _llamba.convert(os.fspath(hf_dir), os.fspath(out), outtype, name,
                           "" if tokenizer is None else os.fspath(tokenizer), for_training)


def quantize(input: PathLike, output: PathLike, type: str = "Q8_0", output_type: Optional[str] = None,
             embedding_type: Optional[str] = None, keep: Iterable[str] = (), pure: bool = False,
             leave_output: bool = False, threads: int = 0, progress: bool = False) -> Dict[str, Any]:
    """Rewrites a GGUF model with llama-quantize's tensor types (``type``: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_S,
    Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, F16, BF16, F32), written atomically. Returns the tensor types and sizes."""
    return _llamba.quantize(os.fspath(input), os.fspath(output), type, output_type or "", embedding_type or "",
                            list(keep), pure, leave_output, threads, progress)


def eval_perplexity(model: Model, path: Optional[PathLike] = None, text: Union[str, bytes, None] = None,
                    ctx: int = 512, chunks: int = -1, batch: int = 4, kl_base: Optional[Model] = None,
                    progress: bool = False) -> Dict[str, Any]:
    """Perplexity as llama-perplexity computes it, on the file ``path`` (``.xz`` is decompressed) or on
    ``text``: ``ppl`` (value, error), scored token counts, the running PPL per chunk; with ``kl_base``, the KL
    divergence from the base model, top-1 agreement and the base's PPL."""
    if (path is None) == (text is None):
        raise ValueError("give exactly one of path or text")
    if not isinstance(model, Model) or (kl_base is not None and not isinstance(kl_base, Model)):
        raise TypeError("model and kl_base must be llamba.Model objects")
    data = _llamba.read_text_file(os.fspath(path)) if path is not None else text
    return _llamba.eval_perplexity(model._m, data, ctx, chunks, batch, None if kl_base is None else kl_base._m,
                                   progress)
