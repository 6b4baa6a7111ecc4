#!/usr/bin/env python3
"""Tokenizer reference fixtures: runs the upstream tokenizers over the committed corpora and a hand-made hard
set, and writes tests/fixtures/tokenizer/*. Also (re)creates the data files the tests read (data/tokenizers,
data/corpus, the SmolLM2 vocabulary-only GGUF) from ../shared/data and the SmolLM2 model file.

References (pinned in tools/reference/requirements.txt):
  llama3   tiktoken (tokenizer.model + Meta's pattern and specials) and HF tokenizers (tokenizer.json); the
           two must agree on every corpus chunk.
  gpt2     HF tokenizers (BPE + ByteLevel built from OpenAI's encoder.json / vocab.bpe) and tiktoken's gpt2.
  smollm2  transformers' GGUF tokenizer conversion of SmolLM2-135M-Instruct, with SmolLM2's own pre-tokenizer
           (Sequence[Digits(individual_digits), ByteLevel]; llama.cpp's "smollm" is the same chain).
  smollm2_transformers  the same conversion as transformers ships it: its GGUF converter gives every gpt2-model
           llama-architecture file a plain ByteLevel pre-tokenizer, so digits are not split.

Usage: /opt/refenv/bin/python tools/reference/make_tokenizer_fixtures.py [--shared ../shared/data]
       [--smollm2-gguf models/SmolLM2-135M-Instruct.Q4_1.gguf]
Never run by CI. Regenerating is a deliberate commit; bump FIXTURE_FORMAT if the layout changes.
"""
import argparse
import hashlib
import json
import lzma
import os
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_hard_set import hard_set  # noqa: E402

FIXTURE_FORMAT = 1
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
GENERATOR = "tools/reference/make_tokenizer_fixtures.py"
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
# meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json chat_template (the Llama-3 instruct format).
LLAMA3_CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' "
    "+ message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 "
    "== 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt "
    "%}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
CORPORA = [  # name, file under data/corpus
    ("wikitext2_test", "wikitext2_test.txt.xz"),
    ("tinyshakespeare", "tinyshakespeare.txt.xz"),
    ("brown", "brown.txt.xz"),
    ("sotu", "sotu.txt.xz"),
]
CHUNK_MIN_BYTES = 4096
SAMPLE_EVERY, SAMPLE_MAX_IDS = 32, 128


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def versions():
    import tiktoken
    import tokenizers
    import transformers
    import gguf  # noqa: F401
    from importlib.metadata import version
    return {"tokenizers": tokenizers.__version__, "tiktoken": tiktoken.__version__,
            "transformers": transformers.__version__, "gguf": version("gguf"), "numpy": np.__version__,
            "safetensors": version("safetensors")}


def write_xz(path, data):
    with open(path, "wb") as f:
        f.write(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


# ------------------------------------------------------------------------------------------------ data files

def prepare_data(shared, smollm2_gguf):
    """Copies the upstream files the tests need into data/ and tests/fixtures (each with its licence)."""
    d_llama = os.path.join(ROOT, "data", "tokenizers", "llama3")
    d_gpt2 = os.path.join(ROOT, "data", "tokenizers", "gpt2")
    d_corpus = os.path.join(ROOT, "data", "corpus")
    for d in (d_llama, d_gpt2, d_corpus, OUT):
        os.makedirs(d, exist_ok=True)
    src = os.path.join(shared, "tokenizers", "llama3")
    for f in ("tokenizer.model", "tokenizer.json.xz", "tokenizer_config.json", "LICENSE"):
        shutil.copyfile(os.path.join(src, f), os.path.join(d_llama, f))
    # GPT-2 as an HF tokenizer.json, built by `tokenizers` itself from OpenAI's files.
    write_xz(os.path.join(d_gpt2, "tokenizer.json.xz"), gpt2_hf_from_openai(shared).to_str().encode())
    for name, f in CORPORA:
        dst = os.path.join(d_corpus, f)
        if name == "wikitext2_test":
            write_xz(dst, open(os.path.join(shared, "eval", "wikitext-2", "test.txt"), "rb").read())
        elif name == "tinyshakespeare":
            write_xz(dst, open(os.path.join(shared, "corpus", "tinyshakespeare.txt"), "rb").read())
        else:
            shutil.copyfile(os.path.join(shared, "corpus", f), dst)
    write_vocab_gguf(smollm2_gguf, os.path.join(OUT, "smollm2_vocab.gguf.xz"))


def gpt2_hf_from_openai(shared):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    d = os.path.join(shared, "tokenizers", "gpt2")
    vocab = json.load(open(os.path.join(d, "encoder.json"), encoding="utf-8"))
    lines = open(os.path.join(d, "vocab.bpe"), encoding="utf-8").read().split("\n")[1:]
    merges = [tuple(l.split(" ")) for l in lines if l]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    return tok


def write_vocab_gguf(model_gguf, dst_xz):
    """A GGUF with SmolLM2's tokenizer and general/llama metadata but no tensors."""
    import gguf
    r = gguf.GGUFReader(model_gguf)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "v.gguf")
        w = gguf.GGUFWriter(path, arch=r.fields["general.architecture"].contents())
        for k, f in r.fields.items():
            if k.startswith("GGUF.") or k == "general.architecture":
                continue
            if k.startswith(("tokenizer.", "general.", "llama.")):
                sub = f.types[-1] if f.types[0] == gguf.GGUFValueType.ARRAY else None
                w.add_key_value(k, f.contents(), f.types[0], sub_type=sub)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        w.close()
        write_xz(dst_xz, open(path, "rb").read())


# ------------------------------------------------------------------------------------------------ references

class Ref:
    """One reference tokenizer: plain (no special parsing), special (parse specials) and its BOS id."""

    def __init__(self, name, plain, special, bos, batch=None, desc=""):
        self.name, self.plain, self.special, self.bos, self.batch, self.desc = name, plain, special, bos, batch, desc

    def plain_batch(self, texts):
        return self.batch(texts) if self.batch else [self.plain(t) for t in texts]


def tiktoken_ref(name, enc, bos, desc):
    return Ref(name, lambda t: enc.encode(t, disallowed_special=()), lambda t: enc.encode(t, allowed_special="all"),
               bos, lambda ts: enc.encode_batch(ts, disallowed_special=()), desc)


def hf_ref(name, tok, bos, desc):
    from tokenizers import Tokenizer
    plain_tok = Tokenizer.from_str(tok.to_str())
    plain_tok.encode_special_tokens = True  # special tokens' text is plain text
    tok.encode_special_tokens = False
    return Ref(name, lambda t: plain_tok.encode(t, add_special_tokens=False).ids,
               lambda t: tok.encode(t, add_special_tokens=False).ids, bos,
               lambda ts: [e.ids for e in plain_tok.encode_batch(ts, add_special_tokens=False)], desc)


def llama3_specials():
    names = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
             "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
             "<|eot_id|>", "<|python_tag|>", "<|image|>"]
    names += [f"<|reserved_special_token_{i}|>" for i in range(2, 2 + 256 - len(names))]
    return {n: 128000 + i for i, n in enumerate(names)}


def make_refs(shared, vocab_gguf_xz):
    import tiktoken
    from tiktoken.load import data_gym_to_mergeable_bpe_ranks, load_tiktoken_bpe
    from tokenizers import Tokenizer, pre_tokenizers
    refs = {}
    d_llama = os.path.join(ROOT, "data", "tokenizers", "llama3")
    enc = tiktoken.Encoding("llama3", pat_str=LLAMA3_PATTERN,
                            mergeable_ranks=load_tiktoken_bpe(os.path.join(d_llama, "tokenizer.model")),
                            special_tokens=llama3_specials())
    refs["llama3_tiktoken"] = tiktoken_ref("llama3_tiktoken", enc, 128000, "tiktoken Encoding(tokenizer.model, "
                                           "Meta's llama3 pattern, 256 specials in Llama 3.1 naming)")
    hf = Tokenizer.from_str(lzma.open(os.path.join(d_llama, "tokenizer.json.xz")).read().decode())
    refs["llama3_hf"] = hf_ref("llama3_hf", hf, 128000, "tokenizers.Tokenizer(tokenizer.json); BOS from "
                               "tokenizer_config.json")
    d_gpt2 = os.path.join(shared, "tokenizers", "gpt2")
    ranks = data_gym_to_mergeable_bpe_ranks(
        os.path.join(d_gpt2, "vocab.bpe"), os.path.join(d_gpt2, "encoder.json"),
        vocab_bpe_hash="1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
        encoder_json_hash="196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783")
    import tiktoken_ext.openai_public as oai
    gpt2_enc = tiktoken.Encoding("gpt2", pat_str=oai.r50k_pat_str, mergeable_ranks=ranks,
                                 special_tokens={"<|endoftext|>": 50256})
    refs["gpt2_tiktoken"] = tiktoken_ref("gpt2_tiktoken", gpt2_enc, -1, "tiktoken gpt2 (local OpenAI files)")
    gpt2_hf = Tokenizer.from_str(lzma.open(os.path.join(ROOT, "data", "tokenizers", "gpt2",
                                                        "tokenizer.json.xz")).read().decode())
    refs["gpt2_hf"] = hf_ref("gpt2_hf", gpt2_hf, -1, "tokenizers BPE + ByteLevel from OpenAI's encoder.json/vocab.bpe")

    from transformers import AutoTokenizer
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "v.gguf"), "wb").write(lzma.open(vocab_gguf_xz).read())
        tt = AutoTokenizer.from_pretrained(tmp, gguf_file="v.gguf")
        tt_smol = AutoTokenizer.from_pretrained(tmp, gguf_file="v.gguf")
    # transformers swaps bos/eos in its GGUF converter; the GGUF says bos = 1 (<|im_start|>).
    refs["smollm2_transformers"] = hf_ref("smollm2_transformers", tt.backend_tokenizer, 1,
                                          "transformers AutoTokenizer(gguf_file=smollm2_vocab.gguf) as shipped")
    smol = tt_smol.backend_tokenizer
    smol.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                  pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    refs["smollm2"] = hf_ref("smollm2", smol, 1, "transformers GGUF conversion with SmolLM2's pre-tokenizer "
                             "Sequence[Digits(individual_digits=true), ByteLevel(use_regex=true)]")
    # Cross-check: the transformers wrapper gives the backend's ids.
    assert tt.encode("Hello 2024 world", add_special_tokens=False) == refs["smollm2_transformers"].plain(
        "Hello 2024 world")
    return refs, tt


# ------------------------------------------------------------------------------------------------ fixtures

def fnv1a64(ids):
    h = 0xcbf29ce484222325
    for i in ids:
        h = ((h ^ (i & 0xFFFFFFFF)) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def chunk_ends(data):
    """Chunk boundaries: after a newline, once a chunk holds at least CHUNK_MIN_BYTES."""
    ends, start = [], 0
    while start < len(data):
        e = data.find(b"\n", start + CHUNK_MIN_BYTES - 1)
        e = len(data) if e < 0 else e + 1
        ends.append(e)
        start = e
    return ends


def corpus_fixture(family, refs, corpora, vers, file_info):
    from safetensors.numpy import save_file
    tensors, meta_corpora, disagreements = {}, [], {}
    for name, data in corpora:
        ends = chunk_ends(data)
        chunks = [data[b:e].decode("utf-8") for b, e in zip([0] + ends[:-1], ends)]
        results = [r.plain_batch(chunks) for r in refs]
        for r, res in zip(refs[1:], results[1:]):
            bad = [i for i in range(len(chunks)) if res[i] != results[0][i]]
            if bad:
                disagreements[f"{name}:{refs[0].name}!={r.name}"] = bad[:20]
                print(f"  !! {name}: {r.name} differs from {refs[0].name} on {len(bad)} chunks", file=sys.stderr)
        ids = results[0]
        sample = list(range(0, len(chunks), SAMPLE_EVERY))
        sample_ids = [ids[i][:SAMPLE_MAX_IDS] for i in sample]
        tensors[f"{name}.chunk_ends"] = np.array(ends, dtype=np.int64)
        tensors[f"{name}.counts"] = np.array([len(x) for x in ids], dtype=np.int32)
        tensors[f"{name}.hashes"] = np.array([fnv1a64(x) for x in ids], dtype=np.uint64).view(np.int64)
        tensors[f"{name}.sample_chunks"] = np.array(sample, dtype=np.int32)
        tensors[f"{name}.sample_offsets"] = np.cumsum([0] + [len(x) for x in sample_ids]).astype(np.int64)
        tensors[f"{name}.sample_ids"] = np.array([i for x in sample_ids for i in x], dtype=np.int32)
        meta_corpora.append({"name": name, "bytes": len(data), "sha256": sha256(data), "chunks": len(chunks),
                             "tokens": int(sum(len(x) for x in ids))})
        print(f"  {family} {name}: {len(chunks)} chunks, {meta_corpora[-1]['tokens']} tokens")
    meta = {"fixture_format": str(FIXTURE_FORMAT), "generator": GENERATOR, "family": family,
            "references": json.dumps({r.name: r.desc for r in refs}), "versions": json.dumps(vers),
            "tokenizer_file": json.dumps(file_info), "corpora": json.dumps(meta_corpora),
            "chunking": f"split after the first newline at or past {CHUNK_MIN_BYTES} bytes from the chunk start",
            "hash": "FNV-1a 64 over the ids as uint32 words (h ^= id; h *= 0x100000001b3)",
            "sample": f"every {SAMPLE_EVERY}th chunk, first {SAMPLE_MAX_IDS} ids",
            "disagreements": json.dumps(disagreements)}
    save_file(tensors, os.path.join(OUT, f"{family}.safetensors"), metadata=meta)
    return disagreements


def hard_set_fixture(refs, vers):
    cases = hard_set()
    out = {"fixture_format": FIXTURE_FORMAT, "generator": GENERATOR, "versions": vers,
           "cases": [{"name": n, "text": t} for n, t in cases], "expected": {}}
    for name, r in refs.items():
        e = {"bos": r.bos, "plain": [], "special": []}
        for _, t in cases:
            e["plain"].append(r.plain(t))
            e["special"].append(r.special(t))
        out["expected"][name] = e
    for a, b in [("llama3_tiktoken", "llama3_hf"), ("gpt2_tiktoken", "gpt2_hf"), ("smollm2", "smollm2_transformers")]:
        diff = [cases[i][0] for i in range(len(cases)) if out["expected"][a]["plain"][i] != out["expected"][b]["plain"][i]]
        print(f"  hard set: {a} vs {b}: {len(diff)} cases differ {diff[:12]}")
    with open(os.path.join(OUT, "hard_set.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True, separators=(",", ":"))


# meta-llama Llama-3.1-8B-Instruct and Llama-3.2-1B-Instruct tokenizer_config.json chat templates (the 3.1 text is
# also 3.3's); they differ in the date: 3.1 fixes "26 Jul 2024", 3.2 asks transformers for today's date.
LLAMA31_TEMPLATE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chat_templates",
                                     "llama3.1-instruct.jinja")
LLAMA32_TEMPLATE_FILE = LLAMA31_TEMPLATE_FILE.replace("3.1", "3.2")
LLAMA32_FIXED_DATE = "05 Mar 2025"  # passed as date_string so that the fixture does not depend on the day


def chat_fixture(smol_tt, vers):
    from transformers import PreTrainedTokenizerFast
    convs = [
        [{"role": "user", "content": "Hello!"}],
        [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "  What is 2+2?\n"}],
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"},
         {"role": "user", "content": "Tell me a joke about <tokens>.\n\n"}],
        [{"role": "system", "content": "\u00a0\tsystem with spaces \u3000"}, {"role": "user", "content": "日本語 🤗"}],
        [{"role": "system", "content": " Use the calculator.\n"}, {"role": "user", "content": "3*7?"},
         {"role": "tool", "content": " 21\n\"é\"\t<x> \\ \u0001"}, {"role": "ipython", "content": "{\"a\": 1}"}],
    ]
    llama = PreTrainedTokenizerFast(tokenizer_file=None, tokenizer_object=__import__("tokenizers").Tokenizer.from_str(
        lzma.open(os.path.join(ROOT, "data", "tokenizers", "llama3", "tokenizer.json.xz")).read().decode()),
        bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    llama31 = open(LLAMA31_TEMPLATE_FILE, encoding="utf-8").read()
    llama32 = open(LLAMA32_TEMPLATE_FILE, encoding="utf-8").read()
    out = {"fixture_format": FIXTURE_FORMAT, "generator": GENERATOR, "versions": vers, "conversations": convs,
           "llama3_template": LLAMA3_CHAT_TEMPLATE, "llama31_template": llama31, "llama32_template": llama32,
           "llama32_date": LLAMA32_FIXED_DATE, "expected": {}}
    families = [("llama3", llama, LLAMA3_CHAT_TEMPLATE, {}), ("llama31", llama, llama31, {}),
                ("llama32", llama, llama32, {"date_string": LLAMA32_FIXED_DATE}),
                ("smollm2", smol_tt, smol_tt.chat_template, {})]
    for fam, tok, tpl, kwargs in families:
        rows = []
        for c in convs:
            for gen in (False, True):
                rows.append(tok.apply_chat_template(c, tokenize=False, add_generation_prompt=gen, chat_template=tpl,
                                                    **kwargs))
        out["expected"][fam] = rows
    with open(os.path.join(OUT, "chat_templates.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--smollm2-gguf", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--skip-data", action="store_true", help="reuse data/ and the vocabulary GGUF as they are")
    ap.add_argument("--chat-only", action="store_true", help="remake only chat_templates.json (implies --skip-data)")
    args = ap.parse_args()
    if not (args.skip_data or args.chat_only):
        prepare_data(args.shared, args.smollm2_gguf)
    vers = versions()
    vocab_xz = os.path.join(OUT, "smollm2_vocab.gguf.xz")
    refs, smol_tt = make_refs(args.shared, vocab_xz)
    if args.chat_only:
        chat_fixture(smol_tt, vers)
        return
    corpora = [(n, lzma.open(os.path.join(ROOT, "data", "corpus", f)).read()) for n, f in CORPORA]

    def info(*rel):
        return {p: sha256(open(os.path.join(ROOT, p), "rb").read()) for p in rel}
    corpus_fixture("llama3", [refs["llama3_tiktoken"], refs["llama3_hf"]], corpora, vers,
                   info("data/tokenizers/llama3/tokenizer.model", "data/tokenizers/llama3/tokenizer.json.xz"))
    corpus_fixture("gpt2", [refs["gpt2_hf"], refs["gpt2_tiktoken"]], corpora, vers,
                   info("data/tokenizers/gpt2/tokenizer.json.xz"))
    corpus_fixture("smollm2", [refs["smollm2"]], corpora, vers, info("tests/fixtures/tokenizer/smollm2_vocab.gguf.xz"))
    corpus_fixture("smollm2_transformers", [refs["smollm2_transformers"]], corpora, vers,
                   info("tests/fixtures/tokenizer/smollm2_vocab.gguf.xz"))
    hard_set_fixture(refs, vers)
    chat_fixture(smol_tt, vers)


if __name__ == "__main__":
    main()
