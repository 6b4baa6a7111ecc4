// Text files -> token shards with a held-out split (`llamba prepare-data`): each file is one document, followed
// by the tokenizer's EOS (when it has one); the last `val_fraction` of every document's tokens goes to the
// held-out split, so both splits cover every file.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace llamba::train {

struct PrepareOptions {
  double val_fraction = 0.05;
  int64_t shard_tokens = 1 << 26;  // tokens per shard file
  bool add_eos = true;
  std::string tokenizer_path;      // recorded in meta.json
};

struct PrepareStats {
  int64_t train_tokens = 0, val_tokens = 0, bytes = 0;
  int64_t train_shards = 0, val_shards = 0;
};

PrepareStats prepare_data(const tokenizer::Tokenizer& tok, const std::vector<std::string>& files,
                          const std::string& out_dir, const PrepareOptions& opts);

}  // namespace llamba::train
