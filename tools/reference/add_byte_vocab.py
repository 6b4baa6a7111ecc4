"""Copies a GGUF and adds a byte-level GPT-2 vocabulary (256 tokens, one merge) so llama.cpp can load a model
whose fixture has no tokenizer (llama.cpp refuses a file without tokenizer.ggml.model).

Token b is byte b in GPT-2's byte-to-unicode alphabet, except token 128, which becomes "he" (the one merge,
"h e"): llama.cpp and llamba both need a non-empty merge list. Used by check_quantized_in_llamacpp.sh.

    python tools/reference/add_byte_vocab.py IN.gguf OUT.gguf
"""
import sys

import gguf
import numpy as np


def byte_alphabet():
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    codes, extra = printable[:], 0
    table = dict(zip(printable, codes))
    for b in range(256):
        if b not in table:
            table[b] = 256 + extra
            extra += 1
    return [chr(table[b]) for b in range(256)]


def main(src, dst):
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dst, arch)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        is_array = field.types[0] == gguf.GGUFValueType.ARRAY
        writer.add_key_value(key, field.contents(), field.types[0], field.types[-1] if is_array else None)
    tokens = byte_alphabet()
    tokens[128] = "he"
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * 256)
    writer.add_token_merges(["h e"])
    writer.add_bos_token_id(0)
    writer.add_eos_token_id(255)
    writer.add_add_bos_token(False)
    for t in reader.tensors:
        writer.add_tensor(t.name, np.array(t.data), raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: add_byte_vocab.py IN.gguf OUT.gguf")
    main(sys.argv[1], sys.argv[2])
