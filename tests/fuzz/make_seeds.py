#!/usr/bin/env python3
"""Writes the fuzz seed corpora (tests/fuzz/corpus/<harness>/) and tests/fuzz/data/ from the committed fixtures.

Run by hand when the formats change (python3, standard library only); CI never runs it. The seeds are small
on purpose: trimmed vocabularies (the first few hundred tokens of the real files, with the merges among them),
short texts and hand-made edge cases. `scripts/fuzz.sh` grows working corpora from them outside the repository;
minimized finds are merged back into corpus/ by `scripts/fuzz.sh --merge`.
"""
import json
import lzma
import os
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
DATA = os.path.join(ROOT, "tests", "fuzz", "data")


def rel(*p):
    return os.path.join(ROOT, *p)


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, indent=1)


# --- GGUF --------------------------------------------------------------------------------------------------
# Value type ids (io/gguf.h).
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)


def g_str(s):
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def g_scalar(t, v):
    fmt = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "B", U64: "Q", I64: "q",
           F64: "d"}
    return g_str(v) if t == STR else struct.pack("<" + fmt[t], v)


def g_value(t, v):
    if t != ARR:
        return g_scalar(t, v)
    et, items = v
    out = struct.pack("<IQ", et, len(items))
    for it in items:
        out += g_value(et, it) if et != ARR else g_value(ARR, it)
    return out


def gguf(kvs, tensors=(), alignment=32, version=3):
    """kvs: [(key, type, value)]; tensors: [(name, ne list, ggml type, bytes)]."""
    h = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for k, t, v in kvs:
        h += g_str(k) + struct.pack("<I", t) + g_value(t, v)
    off, blobs = 0, b""
    for name, ne, typ, data in tensors:
        h += g_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        h += struct.pack("<IQ", typ, off)
        pad = (-len(data)) % alignment
        blobs += data + b"\0" * pad
        off += len(data) + pad
    h += b"\0" * ((-len(h)) % alignment)
    return h + blobs


def read_gguf_kv(data):
    """The metadata of a GGUF file as {key: python value} (enough for the vocabulary fixture)."""
    pos = 0

    def rd(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def rs():
        nonlocal pos
        n = rd("Q")
        s = data[pos:pos + n].decode("utf-8", "surrogateescape")
        pos += n
        return s

    def rv(t):
        if t == STR:
            return rs()
        if t == ARR:
            et, n = rd("I"), rd("Q")
            return (et, [rv(et) for _ in range(n)])
        return rd({U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "B", U64: "Q",
                   I64: "q", F64: "d"}[t])

    assert data[:4] == b"GGUF"
    pos = 8
    nt, nkv = rd("Q"), rd("Q")
    kv = {}
    for _ in range(nkv):
        k = rs()
        t = rd("I")
        kv[k] = (t, rv(t))
    return kv


def gguf_seeds():
    for f in ("all_types.gguf", "k_quants.gguf"):
        put("gguf", f, open(rel("tests", "fixtures", "gguf", f), "rb").read())
    every = [("general.architecture", STR, "llamba"), ("general.alignment", U32, 64), ("u8", U8, 7),
             ("i8", I8, -7), ("u16", U16, 65535), ("i16", I16, -32768), ("u32", U32, 1 << 31), ("i32", I32, -1),
             ("f32", F32, 1.5), ("bool", BOOL, 1), ("u64", U64, 1 << 63), ("i64", I64, -(1 << 63)),
             ("f64", F64, -0.25), ("str", STR, "caf\u00e9"), ("arr.i32", ARR, (I32, [1, -2, 3])),
             ("arr.str", ARR, (STR, ["a", "", "bc"])), ("arr.bool", ARR, (BOOL, [0, 1])),
             ("arr.f64", ARR, (F64, [0.5])), ("arr.arr", ARR, (ARR, [(U8, [1, 2]), (STR, ["x"])]))]
    f32 = struct.pack("<4f", 1, 2, 3, 4)
    q8 = struct.pack("<e", 0.5) + bytes(range(32))
    put("gguf", "every_type.gguf", gguf(every, [("a", [2, 2], 0, f32), ("q", [32], 8, q8),
                                                ("e", [0, 3], 0, b"")], alignment=64))
    put("gguf", "v2_empty.gguf", gguf([], version=2))
    put("gguf", "shared_offset.gguf", gguf([("general.alignment", U64, 8)], [("x", [4], 0, f32)]))


# --- safetensors -------------------------------------------------------------------------------------------
def safetensors(entries, metadata=None, pad=True):
    """entries: [(name, dtype, shape, bytes)]."""
    header, off, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dt, shape, b in entries:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b)
        data += b
    h = json.dumps(header).encode()
    if pad:
        h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + data


def safetensors_seeds():
    put("safetensors", "all_types.safetensors", open(rel("tests", "fixtures", "gguf", "all_types.safetensors"), "rb").read())
    put("safetensors", "dtypes.safetensors", safetensors(
        [("f32", "F32", [2], struct.pack("<2f", 1, -2)), ("f16", "F16", [1, 2], struct.pack("<2e", 1, 0.5)),
         ("bf16", "BF16", [1], b"\x80\x3f"), ("f64", "F64", [], struct.pack("<d", 3.0)),
         ("i64", "I64", [1], struct.pack("<q", -5)), ("i32", "I32", [1], struct.pack("<i", 7)),
         ("i16", "I16", [1], struct.pack("<h", -3)), ("i8", "I8", [2], b"\x01\xff"), ("u8", "U8", [1], b"\x09"),
         ("bool", "BOOL", [2], b"\x00\x01"), ("empty", "F32", [0, 4], b"")],
        metadata={"format": "pt", "fixture_format": "1"}))
    put("safetensors", "empty_header.safetensors", safetensors([], pad=False))


# --- HF checkpoint folders (config.json + index) ---------------------------------------------------------------
HF_FIXTURES = {"llama": "tests/fixtures/llama_hf/tiny_tied", "llamba": "tests/fixtures/mohawk/tiny/student",
               "mamba2": "tests/fixtures/mamba2/short_t", "gateloop": "tests/fixtures/gateloop/no_gate"}


def hf_seeds():
    for arch, d in HF_FIXTURES.items():
        cfg = open(rel(d, "config.json"), "rb").read()
        put("hf_config", arch + ".json", cfg)
        st = open(rel(d, "model.safetensors"), "rb").read()
        n = struct.unpack_from("<Q", st)[0]
        names = [k for k in json.loads(st[8:8 + n]) if k != "__metadata__"]
        index = {"metadata": {"total_size": len(st)}, "weight_map": {k: "model.safetensors" for k in names}}
        put("hf_config", arch + "_indexed.json", cfg + b"\0" + dumps(index).encode())
    put("hf_config", "bad_shard.json", b'{"model_type": "llama"}\0{"weight_map": {"x": "../model.safetensors"}}')


# --- tokenizers --------------------------------------------------------------------------------------------
def trim_hf(tok, keep, specials, template_bos=None):
    """The first `keep` ids of a tokenizer.json, the merges among them and `specials` renumbered after them."""
    m = tok["model"]
    inv = {i: t for t, i in m["vocab"].items()}
    vocab = {inv[i]: i for i in range(keep) if i in inv}
    merges = []
    for mg in m["merges"]:
        a, b = mg.split(" ", 1) if isinstance(mg, str) else mg
        if a in vocab and b in vocab and a + b in vocab:
            merges.append([a, b])
    added = []
    for k, a in enumerate(specials):
        a = dict(a)
        a["id"] = keep + k
        added.append(a)
    out = dict(tok)
    out["model"] = dict(m, vocab=vocab, merges=merges)
    out["added_tokens"] = added
    if template_bos:
        bos = next(a for a in added if a["content"] == template_bos)
        out["post_processor"] = {
            "type": "Sequence",
            "processors": [{"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
                           {"type": "TemplateProcessing",
                            "single": [{"SpecialToken": {"id": template_bos, "type_id": 0}},
                                       {"Sequence": {"id": "A", "type_id": 0}}],
                            "pair": [], "special_tokens": {template_bos: {"id": template_bos, "ids": [bos["id"]],
                                                                          "tokens": [template_bos]}}}]}
    return out


def tokenizer_seeds():
    llama3 = json.loads(lzma.open(rel("data", "tokenizers", "llama3", "tokenizer.json.xz")).read())
    gpt2 = json.loads(lzma.open(rel("data", "tokenizers", "gpt2", "tokenizer.json.xz")).read())
    l3 = trim_hf(llama3, 700, llama3["added_tokens"][:12], template_bos="<|begin_of_text|>")
    g2 = trim_hf(gpt2, 600, gpt2["added_tokens"])
    smol = dict(g2, pre_tokenizer={"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]})
    smol["added_tokens"] = [dict(a, id=600 + k, content=c) for k, (a, c) in
                            enumerate(zip([gpt2["added_tokens"][0]] * 3, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]))]
    split_str = dict(g2, pre_tokenizer={"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}]},
        normalizer={"type": "Sequence", "normalizers": []})
    os.makedirs(DATA, exist_ok=True)
    with open(os.path.join(DATA, "tokenizer_small.json"), "w", encoding="utf-8") as f:
        f.write(dumps(trim_hf(llama3, 300, llama3["added_tokens"][:12], template_bos="<|begin_of_text|>")))
    put("tokenizer_json", "llama3_small.json", dumps(l3))
    put("tokenizer_json", "gpt2_small.json", dumps(g2))
    put("tokenizer_json", "smollm_digits.json", dumps(smol))
    put("tokenizer_json", "split_string.json", dumps(split_str))
    put("tokenizer_json", "bytes.json", open(rel("tests", "fixtures", "gateloop", "bytes", "tokenizer.json"), "rb").read())
    cfg = {"bos_token": "<|im_start|>", "eos_token": {"content": "<|im_end|>"},
           "chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                            "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"}
    put("tokenizer_json", "smollm_with_config.json", dumps(smol) + "\0" + dumps(cfg))

    # tokenizer_config.json: the real Llama-3 one without its 256-entry added_tokens_decoder, and templates.
    l3cfg = json.load(open(rel("data", "tokenizers", "llama3", "tokenizer_config.json")))
    l3cfg.pop("added_tokens_decoder", None)
    put("tokenizer_config", "llama3.json", dumps(l3cfg))
    chat = json.load(open(rel("tests", "fixtures", "tokenizer", "chat_templates.json")))
    for name in ("llama31", "llama32"):
        put("tokenizer_config", name + ".json", dumps(dict(l3cfg, chat_template=chat[name + "_template"])))
    put("tokenizer_config", "named_list.json", dumps({"bos_token": {"content": "<|begin_of_text|>"},
                                                      "chat_template": [{"name": "tool_use", "template": "x"},
                                                                        {"name": "default",
                                                                         "template": chat["llama3_template"]}]}))
    put("tokenizer_config", "chatml.json", dumps(cfg))

    # tiktoken: the first and last lines of Meta's file, and padding cases.
    lines = open(rel("data", "tokenizers", "llama3", "tokenizer.model"), "rb").read().split(b"\n")
    put("tiktoken", "llama3_head.model", b"\n".join(lines[:200]) + b"\n")
    put("tiktoken", "llama3_tail.model", b"\n".join(lines[-60:]))
    put("tiktoken", "padding.model", b"IQ== 0\r\nIg== 1\nIyQ= 2\n\nJCUm 3\n")

    # GGUF vocabularies: SmolLM2's trimmed, and the trimmed Llama-3 one as llama.cpp would store it.
    kv = read_gguf_kv(lzma.open(rel("tests", "fixtures", "tokenizer", "smollm2_vocab.gguf.xz")).read())
    toks = kv["tokenizer.ggml.tokens"][1][1]
    types = kv["tokenizer.ggml.token_type"][1][1]
    n = 500
    keep = set(toks[:n])
    merges = [m for m in kv["tokenizer.ggml.merges"][1][1]
              if " " in m[1:] and m[:m.index(" ", 1)] in keep and m[m.index(" ", 1) + 1:] in keep
              and m.replace(" ", "", 1) in keep][:800]
    smol_kv = [("general.architecture", STR, "llama"), ("tokenizer.ggml.model", STR, "gpt2"),
               ("tokenizer.ggml.pre", STR, kv["tokenizer.ggml.pre"][1]),
               ("tokenizer.ggml.tokens", ARR, (STR, toks[:n])), ("tokenizer.ggml.token_type", ARR, (I32, types[:n])),
               ("tokenizer.ggml.merges", ARR, (STR, merges))]
    for k in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
              "tokenizer.ggml.padding_token_id"):
        if k in kv and kv[k][1] < n:
            smol_kv.append((k, kv[k][0], kv[k][1]))
    smol_kv.append(("tokenizer.ggml.add_bos_token", BOOL, 0))
    smol_kv.append(("tokenizer.chat_template", STR, kv["tokenizer.chat_template"][1]))
    put("gguf_tokenizer", "smollm2_small.gguf", gguf(smol_kv))
    inv = sorted(l3["model"]["vocab"].items(), key=lambda p: p[1])
    l3_tokens = [t for t, _ in inv] + [a["content"] for a in l3["added_tokens"]]
    l3_types = [1] * len(inv) + [3] * len(l3["added_tokens"])
    put("gguf_tokenizer", "llama3_small.gguf", gguf([
        ("tokenizer.ggml.model", STR, "gpt2"), ("tokenizer.ggml.pre", STR, "llama-bpe"),
        ("tokenizer.ggml.tokens", ARR, (STR, l3_tokens)), ("tokenizer.ggml.token_type", ARR, (I32, l3_types)),
        ("tokenizer.ggml.merges", ARR, (STR, [a + " " + b for a, b in l3["model"]["merges"]])),
        ("tokenizer.ggml.bos_token_id", U32, 700), ("tokenizer.ggml.eos_token_id", U32, 701),
        ("tokenizer.ggml.eot_token_id", I32, 709), ("tokenizer.ggml.add_bos_token", BOOL, 1),
        ("tokenizer.chat_template", STR, chat["llama31_template"])]))

    # Texts for the tokenizer harness: the hand-made hard set (short entries) and corpus snippets.
    hard = json.load(open(rel("tests", "fixtures", "tokenizer", "hard_set.json")))
    texts = hard["cases"]
    picked = []
    for t in texts:
        s = t if isinstance(t, str) else t.get("text", "")
        if 0 < len(s.encode("utf-8", "surrogateescape")) <= 300:
            picked.append(s)
    for k, s in enumerate(picked[::max(1, len(picked) // 40)][:40]):
        put("tokenizer", "hard_%02d.txt" % k, s)
    for name in ("tinyshakespeare", "wikitext2_test"):
        text = lzma.open(rel("data", "corpus", name + ".txt.xz")).read()
        put("tokenizer", name + ".txt", text[5000:6500])
    put("tokenizer", "invalid_utf8.txt", b"ok \xff\xfe \xc3( \xe2\x82 \xf0\x9f\x98 \xed\xa0\x80 end\xc3")
    put("tokenizer", "specials.txt", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                                     "<|im_start|>x<|im_end|><|endoftext|>")


# --- chat templates ------------------------------------------------------------------------------------------
def chat_seeds():
    chat = json.load(open(rel("tests", "fixtures", "tokenizer", "chat_templates.json")))
    smol = read_gguf_kv(lzma.open(rel("tests", "fixtures", "tokenizer", "smollm2_vocab.gguf.xz")).read())
    templates = {"llama3": chat["llama3_template"], "llama31": chat["llama31_template"],
                 "llama32": chat["llama32_template"], "smollm2": smol["tokenizer.chat_template"][1]}
    for k, (name, tpl) in enumerate(templates.items()):
        conv = chat["conversations"][k % len(chat["conversations"])]
        fields = []
        for m in conv:
            c = m.get("content", "")
            fields += [m["role"], c if isinstance(c, str) else json.dumps(c)]
        put("chat_template", name + ".txt", "\0".join([tpl] + fields))
    put("chat_template", "spaces.txt", "\0".join(["", "system", "\u3000 x \u2028", "tool", "{\"a\": \"\u00e9\"}",
                                                 "user", "\xc2"]))


# --- configs and requests --------------------------------------------------------------------------------------
def config_seeds():
    put("train_config", "llamba.json", dumps({"arch": "llamba", "model": {"d_model": 64, "n_layers": 2},
                                             "steps": 100, "batch": 8, "seq_len": 128, "lr": 1e-3,
                                             "schedule": "cosine", "warmup_steps": 10, "seed": 3}))
    put("train_config", "wsd.json", dumps({"arch": "gateloop", "steps": 50, "schedule": "wsd", "decay_fraction": 0.3,
                                          "decay_shape": "sqrt", "min_lr": 1e-5, "beta1": 0.8, "beta2": 0.99,
                                          "eps": 1e-6, "weight_decay": 0.05, "clip": 0.5, "grad_accum": 2,
                                          "eval_interval": 10, "eval_batches": 2, "checkpoint_interval": 25,
                                          "log_interval": 5, "loss_after_token": 7}))
    put("train_config", "constant.json", dumps({"arch": "mamba2", "steps": 0, "schedule": "constant"}))
    put("distill_config", "stages.json", dumps({
        "init": "mohawk", "d_state": 16, "chunk_size": 32, "seed": 2, "checkpoint_interval": 10, "log_interval": 1,
        "stages": [{"stage": 1, "tokens": 65536, "batch": 2, "seq_len": 64, "lr": 1e-4},
                   {"stage": 2, "tokens": 65536, "freeze_mlp": True, "last_target": "residual"},
                   {"stage": 3, "tokens": 131072, "tau": 2.0, "lm_weight": 0.5, "decay_shape": "cosine",
                    "warmup_fraction": 0.05, "decay_fraction": 0.2, "grad_accum": 4}]}))
    put("distill_config", "total.json", dumps({"init": "attention", "tokens": 8000000}))
    put("serve_request", "completion.json", dumps({
        "model": "tiny", "prompt": "Once upon a time", "max_tokens": 12, "temperature": 0.7, "top_p": 0.9,
        "top_k": 40, "min_p": 0.05, "presence_penalty": 0.5, "frequency_penalty": -0.5, "repeat_penalty": 1.1,
        "repeat_last_n": 64, "seed": 42, "stop": ["\n\n", "END"], "stream": True,
        "stream_options": {"include_usage": True}, "logprobs": 3, "n": 1, "ignore_eos": False}))
    put("serve_request", "chat.json", dumps({
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "!"}]}],
        "max_completion_tokens": 5, "logprobs": True, "top_logprobs": 2, "stop": "x", "seed": -1}))
    put("serve_request", "prompt_list.json", dumps({"prompt": ["one"], "max_tokens": None, "temperature": None}))


def main():
    gguf_seeds()
    safetensors_seeds()
    hf_seeds()
    tokenizer_seeds()
    chat_seeds()
    config_seeds()
    total = 0
    for d, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    print("seed corpora: %.0f KiB" % (total / 1024), file=sys.stderr)


if __name__ == "__main__":
    main()
