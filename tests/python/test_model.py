"""Model: tokenization, generation (= `llamba run`), streaming, chat, logits (= the transformers fixtures)."""

import numpy as np
import pytest
from safetensors.numpy import load_file

import llamba
from conftest import REPO, cli

PROMPTS = ["The capital of France is", "def fibonacci(n):\n    "]


def test_info(model):
    i = model.info
    assert (i["arch"], i["n_vocab"], i["n_layers"], i["d_model"]) == ("llama", 49152, 30, 576)
    assert i["context_length"] == 8192 and not i["recurrent"] and i["n_params"] > 100_000_000
    assert i["path"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf") and i["path"] == llamba.default_model_path()


def test_tokenize_equals_cli_and_round_trips(model):
    text = "Hello, world! Ünïcødé 🦙 <|im_start|>"
    out = cli("tokenize", "-t", model.info["path"], input=text).stdout
    assert model.tokenize(text, bos=False) == [int(t) for t in out.split()]
    assert model.detokenize(model.tokenize(text, bos=False)) == text
    assert model.tokenize(text, special=True)[-1] == 1  # <|im_start|> parsed as its special id
    assert model.token_bytes(model.tokenize("Hello", bos=False)[0]) == b"Hello"


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_generate_equals_llamba_run(model, prompt):
    r = cli("run", "-m", model.info["path"], "-p", prompt, "-n", "32", "--temp", "0", "--no-display-prompt")
    assert r.stdout.endswith("\n")
    assert model.generate(prompt, max_tokens=32, temperature=0) == r.stdout[:-1]


def test_sampled_generate_equals_llamba_run_with_seed(model):
    r = cli("run", "-m", model.info["path"], "-p", PROMPTS[0], "-n", "24", "--temp", "0.9", "--seed", "7",
            "--no-display-prompt")
    assert model.generate(PROMPTS[0], max_tokens=24, temperature=0.9, seed=7) == r.stdout[:-1]


@pytest.mark.parametrize("kw", [dict(temperature=0), dict(temperature=1.0, seed=3, top_k=0, top_p=1, min_p=0)])
def test_streaming_concatenation_equals_not_streaming(model, kw):
    whole = model.generate(PROMPTS[1], max_tokens=40, **kw)
    pieces = list(model.generate(PROMPTS[1], max_tokens=40, stream=True, **kw))
    assert len(pieces) > 1 and "".join(pieces) == whole


def test_stop_strings_and_budget(model):
    full = model.generate(PROMPTS[0], max_tokens=32, temperature=0)
    cut = full.strip().split(" ")[2]
    out = model.generate(PROMPTS[0], max_tokens=32, temperature=0, stop=cut)
    assert cut not in out and full.startswith(out)
    assert model.generate(PROMPTS[0], max_tokens=0) == ""


def test_leaving_a_stream_early_stops_it(model):
    s = model.session()
    it = s.generate(PROMPTS[0], max_tokens=200, temperature=0, ignore_eos=True, stream=True)
    got = [next(it) for _ in range(3)]
    it.close()
    assert s.last_stats["stop_reason"] == "callback" and s.last_stats["n_generated"] < 20
    assert "".join(got) and s.generate("", max_tokens=2, temperature=0) is not None  # still usable


def test_chat_uses_the_template(model):
    msgs = [{"role": "user", "content": "What is 2 + 2?"}]
    prompt = model.chat_prompt(msgs)
    assert prompt.startswith("<|im_start|>") and prompt.endswith("<|im_start|>assistant\n")
    r = cli("run", "-m", model.info["path"], "-p", "What is 2 + 2?", "--chat", "-n", "24", "--temp", "0")
    assert model.chat(msgs, max_tokens=24, temperature=0) == r.stdout[:-1]
    assert "".join(model.chat(msgs, max_tokens=24, temperature=0, stream=True)) == r.stdout[:-1]


@pytest.mark.parametrize("n", [0, 1, 2])
def test_logits_match_the_transformers_fixture(model, n):
    # The same fixture and tolerance as tests/models/test_llama_smollm2_slow.cpp: both sides are fp32 on the same
    # dequantized weights, so only summation order differs (1e-4 of the row's largest |logit|, derived there).
    fx = load_file(str(REPO / f"tests/fixtures/smollm2/prompt{n}.safetensors"))
    ids = fx["input_ids"].astype(np.int64).tolist()
    logits = model.logits(ids)
    assert logits.shape == (len(ids), 49152) and logits.dtype == np.float32 and logits.flags.c_contiguous
    last = fx["logits_last"]
    assert np.max(np.abs(logits[-1] - last)) / np.max(np.abs(last)) <= 1e-4
    top_ids, top = fx["logits_top_ids"], fx["logits_top"]
    rows = np.arange(len(ids))[:, None]
    assert np.max(np.abs(logits[rows, top_ids] - top)) / np.max(np.abs(top)) <= 1e-4
    assert (logits.argmax(axis=1) == top_ids[:, 0]).all()


def test_batched_logits_equal_one_at_a_time(model):
    a, b, c = (model.tokenize(p) for p in ["One two three four", "Five six seven eight", "Nine ten"])
    assert len(a) == len(b)
    both = model.logits([a, b])
    assert both.shape == (2, len(a), 49152)
    np.testing.assert_array_equal(both[0], model.logits(a))
    np.testing.assert_array_equal(both[1], model.logits(b))
    ragged = model.logits([a, c])
    assert isinstance(ragged, list) and ragged[1].shape == (len(c), 49152)
    np.testing.assert_array_equal(ragged[1], model.logits(c))
    np.testing.assert_array_equal(model.logits(np.array(a)), model.logits(a))


def test_prefill_then_steps_equal_logits(model):
    ids = model.tokenize("The quick brown fox jumps over the lazy dog")
    full = model.logits(ids)
    s = model.session()
    got = [s.prefill(ids[:4])]
    got += [s.step(t) for t in ids[4:]]
    # Decode attends over the cached keys in another summation order than the T-token prefill: the same
    # 1e-4-of-the-largest-logit bound as against transformers.
    for t, g in zip(range(3, len(ids)), got):
        assert np.max(np.abs(g - full[t])) <= 1e-4 * np.max(np.abs(full[t]))
    assert s.tokens == ids and s.n_past == len(ids)
