"""Bad paths, files and arguments raise exceptions that say what is wrong; the interpreter never dies."""

import shutil

import numpy as np
import pytest

import llamba
from conftest import REPO


def test_missing_file_names_it(tmp_path):
    with pytest.raises(llamba.Error, match="nope.gguf"):
        llamba.Model(tmp_path / "nope.gguf")


def test_not_a_gguf_file(tmp_path):
    p = tmp_path / "text.gguf"
    p.write_text("hello, I am not a model\n" * 10)
    with pytest.raises(llamba.Error, match="text.gguf"):
        llamba.Model(p)


def test_truncated_gguf(tmp_path, model):
    p = tmp_path / "cut.gguf"
    with open(model.info["path"], "rb") as f, open(p, "wb") as g:
        g.write(f.read(3_000_000))
    with pytest.raises(llamba.Error, match="cut.gguf"):
        llamba.Model(p)


def test_model_without_tokenizer(tmp_path):
    out = tmp_path / "tiny.gguf"
    llamba.convert(REPO / "tests/fixtures/llamba/g_eq_h", out)
    with pytest.raises(llamba.Error, match="no tokenizer"):
        llamba.Model(out)


def test_bad_constructor_arguments():
    with pytest.raises(TypeError):
        llamba.Model(42)
    with pytest.raises(ValueError, match="threads"):
        llamba.Model(threads=-1)


def test_bad_token_ids(model):
    with pytest.raises(ValueError, match=r"ids\[1\] = 49152"):
        model.logits([1, 49152])
    with pytest.raises(ValueError, match="-5"):
        model.detokenize([-5])
    with pytest.raises(TypeError):
        model.logits(["a", "b"])
    with pytest.raises(ValueError, match="non-empty"):
        model.logits([])
    with pytest.raises(ValueError, match="context"):
        model.logits([1] * 8193)
    s = model.session()
    with pytest.raises(ValueError, match="not a token id"):
        s.step(10**9)
    with pytest.raises(ValueError, match="nothing has been fed"):
        s.logits


def test_bad_sampling_arguments(model):
    for kw, name in [(dict(temperature=-1), "temperature"), (dict(top_p=2), "top_p"), (dict(min_p=-0.1), "min_p"),
                     (dict(top_k=-3), "top_k"), (dict(max_tokens=-7), "max_tokens"), (dict(seed=-1), "seed"),
                     (dict(stop=[""]), "stop")]:
        with pytest.raises(ValueError, match=name):
            model.generate("Hi", **kw)
        with pytest.raises(ValueError, match=name):
            model.generate("Hi", stream=True, **kw)  # checked before the stream starts


def test_state_of_another_model(model, student):
    s, t = model.session(), student.session()
    s.prefill("Hi")
    with pytest.raises(ValueError, match="another Model"):
        t.restore(s.state())


def test_bad_state_files(tmp_path, model, student):
    with pytest.raises(llamba.Error, match="missing.gguf"):
        llamba.Session.load(tmp_path / "missing.gguf", model)
    s = student.session()
    s.prefill("Hello")
    s.save(tmp_path / "student_state.gguf")
    with pytest.raises(llamba.Error):
        llamba.Session.load(tmp_path / "student_state.gguf", model)  # a Llamba state into a Llama model
    with pytest.raises(llamba.Error):
        s.save(tmp_path / "no_such_dir" / "x.gguf")


def test_bad_tool_arguments(tmp_path, model):
    with pytest.raises(ValueError, match="Q9_9"):
        llamba.quantize(model.info["path"], tmp_path / "q.gguf", "Q9_9")
    with pytest.raises(llamba.Error, match="is the input"):
        llamba.quantize(model.info["path"], model.info["path"], "Q8_0")
    with pytest.raises(llamba.Error, match="config.json"):
        llamba.convert(tmp_path, tmp_path / "x.gguf")
    with pytest.raises(ValueError, match="outtype"):
        llamba.convert(REPO / "tests/fixtures/llamba/g_eq_h", tmp_path / "x.gguf", outtype="q3")
    with pytest.raises(llamba.Error):
        llamba.eval_perplexity(model, text="too short")
    with pytest.raises(ValueError, match="exactly one"):
        llamba.eval_perplexity(model)
    other = tmp_path / "bytes_tok.gguf"  # a model with another vocabulary: KL against it is refused
    llamba.convert(REPO / "tests/fixtures/mamba2/groups2", other,
                   tokenizer=REPO / "tests/fixtures/gateloop/bytes/tokenizer.json")
    with pytest.raises(llamba.Error, match="bytes_tok.gguf: the base model.s vocabulary"):
        llamba.eval_perplexity(model, text="x " * 3000, ctx=128, kl_base=llamba.Model(other))
    shutil.rmtree(tmp_path)


def test_one_session_from_two_threads_is_refused(model):
    import threading
    s = model.session()
    s.prefill("Start")
    it = s.generate(max_tokens=500, temperature=0, ignore_eos=True, stream=True)
    next(it)  # the worker thread now holds the session
    with pytest.raises(ValueError, match="in use by another thread"):
        s.prefill([5])
    it.close()
    s.prefill([5])  # free again
    assert np.isfinite(s.logits).all()
