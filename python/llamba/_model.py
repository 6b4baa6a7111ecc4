"""Model and Session: the Python faces of runtime::Session, runtime::generate and Model::forward."""

from __future__ import annotations

import os
import queue
import threading
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _llamba

State = _llamba.State
State.__doc__ = "A snapshot of a Session (its state, tokens and logits); restore it into a session of the same Model."

Prompt = Union[str, bytes, Sequence[int]]
Message = Union[Mapping[str, str], Tuple[str, str]]


def _seed(seed: Optional[int]) -> int:
    if seed is None:
        return int.from_bytes(os.urandom(8), "little") >> 1
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or None (random), got {seed!r}")
    return seed


def _generate_args(max_tokens: int, temperature: float, top_k: int, top_p: float, min_p: float,
                   seed: Optional[int], stop: Union[None, str, Iterable[str]], repeat_penalty: float,
                   presence_penalty: float, frequency_penalty: float, repeat_last_n: int,
                   ignore_eos: bool) -> Any:
    a = _llamba.GenerateArgs()
    a.max_tokens = max_tokens
    a.temperature = temperature
    a.top_k = top_k
    a.top_p = top_p
    a.min_p = min_p
    a.seed = _seed(seed)
    a.stop = [stop] if isinstance(stop, str) else list(stop or [])
    a.repeat_penalty = repeat_penalty
    a.presence_penalty = presence_penalty
    a.frequency_penalty = frequency_penalty
    a.repeat_last_n = repeat_last_n
    a.ignore_eos = ignore_eos
    a.check()
    return a


class Model:
    """A model loaded from a GGUF file (Llama, Llamba, Mamba-2 or GateLoop), with its tokenizer.

    ``path=None`` loads the default model (``$LLAMBA_MODEL``, else ``models/SmolLM2-135M-Instruct.Q4_1.gguf`` in
    the working directory or in the checkout the package was built from). ``threads=0`` uses one thread per
    core. A Model may be used from several Python threads at once: each call runs on its own thread pool with
    the GIL released.
    """

    def __init__(self, path: Union[str, os.PathLike, None] = None, threads: int = 0) -> None:
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        if not isinstance(threads, int):
            raise TypeError(f"threads must be an int, got {type(threads).__name__}")
        self._m = _llamba.Model("" if path is None else os.fspath(path), threads)
        self._info: Dict[str, Any] = self._m.info()

    def __repr__(self) -> str:
        i = self._info
        return f"llamba.Model({i['path']!r}, arch={i['arch']}, params={i['n_params']:,})"

    @property
    def info(self) -> Dict[str, Any]:
        """Architecture, name, path, n_vocab, d_model, n_layers, context_length (0: unbounded), recurrent,
        n_params, state_bytes (one sequence at full context; constant for recurrent models), bos_id, eos_id,
        add_bos, threads."""
        return dict(self._info)

    def tokenize(self, text: Union[str, bytes], bos: Optional[bool] = None, special: bool = False) -> List[int]:
        """Token ids of ``text``. ``bos=None`` follows the model (prepend BOS if its tokenizer does);
        ``special=True`` parses special-token text such as ``<|im_start|>``."""
        if not isinstance(text, (str, bytes)):
            raise TypeError(f"text must be str or bytes, got {type(text).__name__}")
        return self._m.tokenize(text, self._info["add_bos"] if bos is None else bool(bos), bool(special))

    def detokenize(self, ids: Sequence[int]) -> str:
        """The text of ``ids`` (invalid UTF-8 from partial characters becomes U+FFFD)."""
        return self._m.detokenize(ids)

    def token_bytes(self, id: int) -> bytes:
        """The exact bytes of one token."""
        return self._m.token_bytes(id)

    def chat_prompt(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """The model's chat template applied to ``messages`` (dicts with "role" and "content", or pairs)."""
        pairs = []
        for i, msg in enumerate(messages):
            if isinstance(msg, Mapping):
                if "role" not in msg or "content" not in msg:
                    raise ValueError(f"messages[{i}] needs 'role' and 'content'")
                pairs.append((str(msg["role"]), str(msg["content"])))
            else:
                role, content = msg
                pairs.append((str(role), str(content)))
        return self._m.chat_prompt(pairs, add_generation_prompt)

    def session(self) -> "Session":
        """A new, empty Session (one sequence) over this model."""
        return Session(self)

    def generate(self, prompt: Prompt, max_tokens: int = 256, temperature: float = 0.8, top_k: int = 40,
                 top_p: float = 0.95, min_p: float = 0.05, seed: Optional[int] = None,
                 stop: Union[None, str, Iterable[str]] = None, stream: bool = False, repeat_penalty: float = 1.0,
                 presence_penalty: float = 0.0, frequency_penalty: float = 0.0, repeat_last_n: int = 64,
                 ignore_eos: bool = False, special: bool = False) -> Union[str, Iterator[str]]:
        """Continues ``prompt`` (text, tokenized as ``llamba run`` does, or token ids) from a fresh sequence.

        Samples as llama.cpp does (penalties, top-k, top-p, min-p, temperature; ``temperature=0`` is greedy)
        until an end-of-generation token, a ``stop`` string (not included), ``max_tokens`` (-1: no limit) or the
        context's end. Returns the text, or with ``stream=True`` an iterator of text pieces (valid UTF-8 each)
        whose concatenation is that text; leaving the iterator early stops generation."""
        args = _generate_args(max_tokens, temperature, top_k, top_p, min_p, seed, stop, repeat_penalty,
                              presence_penalty, frequency_penalty, repeat_last_n, ignore_eos)
        s = Session(self)
        return s._run(s._ids(prompt, special), args, stream)

    def chat(self, messages: Sequence[Message], max_tokens: int = 256, **kwargs: Any) -> Union[str, Iterator[str]]:
        """The assistant's reply to ``messages`` (the chat template applied, special tokens parsed); the same
        sampling arguments as :meth:`generate`."""
        ids = self.tokenize(self.chat_prompt(messages, True), bos=False, special=True)
        return self.generate(ids, max_tokens, **kwargs)

    def logits(self, ids: Union[Sequence[int], Sequence[Sequence[int]]]) -> Union[np.ndarray, List[np.ndarray]]:
        """Next-token logits at every position of a fresh sequence: float32 (T, V) for one sequence of ids.

        A list of sequences runs as one batch: (B, T, V) when all have the same length, else a list of (T_i, V)
        arrays. The C++ forward writes straight into the returned array (no copy); the GIL is released."""
        if len(ids) > 0 and not isinstance(ids[0], (int, np.integer)):
            rows = [list(r) for r in ids]
            if len({len(r) for r in rows}) == 1:
                out = np.empty((len(rows), len(rows[0]), self._info["n_vocab"]), dtype=np.float32)
                self._m.logits_into([t for r in rows for t in r], len(rows), out, True)
                return out
            return [self.logits(r) for r in rows]
        row = [int(t) for t in ids] if isinstance(ids, np.ndarray) else ids
        out = np.empty((len(row), self._info["n_vocab"]), dtype=np.float32)
        self._m.logits_into(row, 1, out, True)
        return out


class Session:
    """One sequence over a Model: feed tokens, read next-token logits, generate, snapshot and restore, fork,
    and save to / load from a file. A session is used by one thread at a time (another thread gets ValueError).
    """

    def __init__(self, model: Model) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be a llamba.Model, got {type(model).__name__}")
        self.model = model
        self._s = _llamba.Session(model._m)
        self.last_stats: Optional[Dict[str, Any]] = None
        self.notes: Dict[str, str] = {}

    def __repr__(self) -> str:
        return f"llamba.Session(n_past={self.n_past}, state_bytes={self.state_bytes:,})"

    def _ids(self, prompt: Prompt, special: bool = False) -> List[int]:
        if isinstance(prompt, (str, bytes)):
            if len(prompt) == 0:
                return []
            bos = self.n_past == 0 and self.model.info["add_bos"]
            return self.model.tokenize(prompt, bos=bos, special=special)
        return [int(t) for t in prompt] if isinstance(prompt, np.ndarray) else list(prompt)

    def prefill(self, tokens: Prompt) -> np.ndarray:
        """Feeds token ids (or text) after those already consumed; returns the next-token logits (V,)."""
        self._s.prefill(self._ids(tokens))
        return self.logits

    def step(self, token: int) -> np.ndarray:
        """Feeds one token; returns the next-token logits (V,)."""
        self._s.step(int(token))
        return self.logits

    @property
    def logits(self) -> np.ndarray:
        """A copy of the current next-token logits (float32, V)."""
        return np.frombuffer(self._s.logits_view(), dtype=np.float32).copy()

    @property
    def tokens(self) -> List[int]:
        return self._s.tokens

    @property
    def n_past(self) -> int:
        return self._s.n_past

    @property
    def state_bytes(self) -> int:
        return self._s.state_bytes

    def reset(self) -> None:
        self._s.reset()

    def state(self) -> State:
        """A snapshot of the sequence (a full copy: constant size for recurrent models)."""
        return self._s.state()

    def restore(self, state: State) -> None:
        self._s.restore(state)

    def fork(self) -> "Session":
        """An independent session continuing from here."""
        f = Session.__new__(Session)
        f.model, f._s, f.last_stats, f.notes = self.model, self._s.fork(), None, dict(self.notes)
        return f

    def save(self, path: Union[str, os.PathLike], notes: Optional[Mapping[str, str]] = None) -> None:
        """Writes the sequence (state, tokens, logits and ``notes``) to a GGUF file, atomically."""
        self._s.save(os.fspath(path), dict(notes or {}))

    @classmethod
    def load(cls, path: Union[str, os.PathLike], model: Model) -> "Session":
        """A session continuing from a file written by :meth:`save` (or ``llamba run --save-state``) for
        ``model``; its notes are in ``.notes``."""
        s = cls(model)
        s.notes = s._s.load(os.fspath(path))
        return s

    def generate(self, prompt: Prompt = "", max_tokens: int = 256, temperature: float = 0.8, top_k: int = 40,
                 top_p: float = 0.95, min_p: float = 0.05, seed: Optional[int] = None,
                 stop: Union[None, str, Iterable[str]] = None, stream: bool = False, repeat_penalty: float = 1.0,
                 presence_penalty: float = 0.0, frequency_penalty: float = 0.0, repeat_last_n: int = 64,
                 ignore_eos: bool = False, special: bool = False) -> Union[str, Iterator[str]]:
        """Like :meth:`Model.generate`, continuing this session after ``prompt`` (which may be empty). The
        session then holds the prompt and every generated token; ``last_stats`` has the ids and timings."""
        args = _generate_args(max_tokens, temperature, top_k, top_p, min_p, seed, stop, repeat_penalty,
                              presence_penalty, frequency_penalty, repeat_last_n, ignore_eos)
        args.consume_last = True
        return self._run(self._ids(prompt, special), args, stream)

    def _run(self, ids: List[int], args: Any, stream: bool) -> Union[str, Iterator[str]]:
        if stream:
            return self._stream(ids, args)
        self.last_stats = self._s.generate(ids, args)
        return self.last_stats["text"]

    def _stream(self, ids: List[int], args: Any) -> Iterator[str]:
        # The C++ generation runs on a worker thread (GIL released) and hands each piece over a queue; closing
        # the iterator makes the next callback return False, which stops it.
        pieces: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        closed = threading.Event()
        done = object()

        def on_text(piece: str) -> bool:
            pieces.put(piece)
            return not closed.is_set()

        def run() -> None:
            try:
                self.last_stats = self._s.generate(ids, args, on_text)
                pieces.put(done)
            except BaseException as e:  # handed to the consumer
                pieces.put(_Raised(e))

        worker = threading.Thread(target=run, name="llamba-generate", daemon=True)
        worker.start()
        try:
            while True:
                item = pieces.get()
                if item is done:
                    return
                if isinstance(item, _Raised):
                    raise item.error
                yield item
        finally:
            closed.set()
            worker.join()


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error
