// TokenizerModel: the plain data a loader produces (vocabulary, merges, pre-tokenizer, special ids, chat
// template) before a Tokenizer builds its lookup structures from it. One loader per source format.
// Thread safety: plain data; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/vocab.h"

namespace llamba::io {
class GgufFile;
}

namespace llamba::tokenizer {

enum class MergeSource {
  kList,        // ranked merge list (tokenizer.json, GGUF)
  kTokenRanks,  // tiktoken: any adjacent pair whose concatenation is a token, ranked by that token
};

struct TokenizerModel {
  std::string path;    // the source file, for messages
  std::string format;  // "tiktoken" | "tokenizer.json" | "gguf"
  // Tokens of type kControl / kUnknown are matched in raw text only when parsing specials; kUserDefined
  // tokens always (HF non-special added tokens, llama.cpp USER_DEFINED).
  Vocab vocab;
  MergeSource merge_source = MergeSource::kList;
  std::vector<std::pair<int32_t, int32_t>> merges;  // kList: in rank order
  bool ignore_merges = false;
  std::string pre_name;  // GGUF `tokenizer.ggml.pre` name of the chain, "" if it has none
  std::vector<std::string> pre_patterns;
  int32_t bos = -1, eos = -1, eot = -1, eom = -1, pad = -1;
  int32_t unk = -1;           // replaces bytes that have no token (-1: they are dropped, as HF does)
  bool fuse_unk = false;      // a run of such bytes gives one unk (HF BPE fuse_unk)
  bool add_bos = false;       // the model's default (GGUF add_bos_token, HF post_processor)
  std::vector<int32_t> eog;   // end-of-generation ids
  std::string chat_template;  // Jinja source as stored in the file, "" if none
};

// Loaders; each throws llamba::Error naming `path` and the bad line / field.
TokenizerModel load_tiktoken(std::string_view data, const std::string& path);
// `config_json` is the sibling tokenizer_config.json (bos/eos tokens, chat template) or "".
TokenizerModel load_hf_json(std::string_view json, const std::string& path, std::string_view config_json);
TokenizerModel load_gguf(const io::GgufFile& f);

// Fills `m.eog` from eos/eot/eom and special tokens with well-known end-of-turn names.
void collect_eog(TokenizerModel& m);

}  // namespace llamba::tokenizer
