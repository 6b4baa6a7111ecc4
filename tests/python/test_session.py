"""Sessions on a Transformer (KV cache) and a recurrent Llamba student: snapshot/restore, fork and files
continue exactly as an uninterrupted run; generation continues a session."""

import numpy as np
import pytest

import llamba

SAMPLING = dict(max_tokens=24, temperature=0.9, seed=11, ignore_eos=True)


@pytest.fixture(params=["llama", "llamba"])
def any_model(request, model, student):
    return model if request.param == "llama" else student


def test_student_is_recurrent(student):
    assert student.info["arch"] == "llamba" and student.info["recurrent"]
    s = student.session()
    s.prefill("Hello there")
    before = s.state_bytes
    s.generate(max_tokens=16, temperature=0, ignore_eos=True)
    assert s.state_bytes == before  # constant state


def test_restore_continues_exactly(any_model):
    s = any_model.session()
    s.prefill("Once upon a time")
    snap = s.state()
    assert snap.n_past == s.n_past and snap.nbytes > 0
    first = s.generate(**SAMPLING)
    after = s.logits
    s.restore(snap)
    assert s.n_past == snap.n_past
    assert s.generate(**SAMPLING) == first
    np.testing.assert_array_equal(s.logits, after)


def test_fork_is_independent_and_continues_exactly(any_model):
    s = any_model.session()
    s.prefill("In a quiet village")
    f = s.fork()
    a = s.generate(**SAMPLING)
    s.generate("and then", max_tokens=4, temperature=0)  # moving s on does not touch f
    assert f.generate(**SAMPLING) == a
    assert f.tokens == s.tokens[: len(f.tokens)]


def test_save_load_continues_exactly(any_model, tmp_path):
    s = any_model.session()
    s.prefill("The weather today")
    s.save(tmp_path / "s.gguf", notes={"who": "test"})
    a = s.generate(**SAMPLING)
    t = llamba.Session.load(tmp_path / "s.gguf", any_model)
    assert t.notes == {"who": "test"} and t.n_past == len(any_model.tokenize("The weather today"))
    assert t.generate(**SAMPLING) == a


def test_generate_in_two_parts_equals_one(any_model):
    # The session holds every generated token afterwards, so continuing it is the one-shot continuation.
    one = any_model.generate("Count: one, two,", max_tokens=20, temperature=0, ignore_eos=True)
    s = any_model.session()
    first = s.generate("Count: one, two,", max_tokens=8, temperature=0, ignore_eos=True)
    rest = s.generate(max_tokens=12, temperature=0, ignore_eos=True)
    assert s.last_stats["n_generated"] == 12
    assert any_model.detokenize(s.tokens[len(any_model.tokenize("Count: one, two,")):]) == first + rest
    assert first + rest == one


def test_step_logits_equal_manual_greedy(any_model):
    s = any_model.session()
    logits = s.prefill("Paris is the capital of")
    ids = []
    for _ in range(6):
        ids.append(int(np.argmax(logits)))
        logits = s.step(ids[-1])
    g = any_model.generate("Paris is the capital of", max_tokens=6, temperature=0, ignore_eos=True)
    assert any_model.detokenize(ids) == g
