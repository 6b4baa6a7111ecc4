"""convert, quantize and eval_perplexity through Python equal the CLI's results."""

import json

import llamba
from conftest import REPO, cli


def test_quantize_equals_the_cli(tmp_path, model):
    a, b = tmp_path / "py.gguf", tmp_path / "cli.gguf"
    r = llamba.quantize(model.info["path"], a, "Q8_0", threads=2)
    cli("quantize", model.info["path"], str(b), "Q8_0", "-q")
    assert a.read_bytes() == b.read_bytes()
    assert r["tensors"]["blk.0.attn_q.weight"] == "q8_0" and r["bytes_out"] > 0
    q = llamba.Model(a)
    assert q.generate("Hello", max_tokens=4, temperature=0) == \
        cli("run", "-m", str(a), "-p", "Hello", "-n", "4", "--temp", "0", "--no-display-prompt").stdout[:-1]


def test_convert_equals_the_cli(tmp_path):
    src = REPO / "tests/fixtures/mamba2/groups2"
    a, b = tmp_path / "py.gguf", tmp_path / "cli.gguf"
    n = llamba.convert(src, a, outtype="f32", name="tiny")
    cli("convert", str(src), "-o", str(b), "--outtype", "f32", "--name", "tiny")
    assert n > 0 and a.read_bytes() == b.read_bytes()


def test_eval_perplexity_equals_the_cli(model):
    corpus = REPO / "data/corpus/wikitext2_test.txt.xz"
    r = llamba.eval_perplexity(model, corpus, ctx=128, chunks=2)
    out = json.loads(cli("eval", "perplexity", "-m", model.info["path"], "-f", str(corpus), "-c", "128",
                         "--chunks", "2", "--json", "-q").stdout)
    assert r["ppl"] == out["ppl"] and r["scored_tokens"] == out["scored_tokens"] == 2 * 63
    assert 5 < r["ppl"]["value"] < 100


def test_python_m_llamba_runs_the_cli():
    assert cli("--version").stdout.strip() == "llamba 0.1.0"
