"""llamba: recurrent language models distilled from Transformers, from Python.

A thin layer over llamba's C++ runtime (the extension module ``llamba._llamba``): models load from GGUF
files, computation runs in C++ with the GIL released, and C++ errors arrive as :class:`llamba.Error`
carrying the message that names the file, tensor or field.

    >>> import llamba
    >>> m = llamba.Model()                      # the default model (SmolLM2-135M-Instruct, Q4_1)
    >>> m.generate("The capital of France is", max_tokens=8, temperature=0)
"""

from ._llamba import Error
from ._model import Model, Session, State
from ._tools import convert, default_model_path, eval_perplexity, quantize

__version__ = "0.1.0"
__all__ = ["Error", "Model", "Session", "State", "convert", "quantize", "eval_perplexity", "default_model_path"]
