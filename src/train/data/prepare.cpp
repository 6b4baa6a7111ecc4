// prepare_data: tokenize, split, write shards and meta.json.
#include "train/data/prepare.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "core/check.h"
#include "io/xz.h"
#include "train/data/token_shards.h"

namespace llamba::train {

namespace fs = std::filesystem;

namespace {
// Appends ids to the current shard of a split, flushing full shards to disk.
struct SplitWriter {
  std::string dir, prefix;
  int64_t shard_tokens, vocab;
  std::vector<int32_t> buf;
  std::vector<std::string> files;
  int64_t total = 0;
  void add(const std::vector<int32_t>& ids, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      buf.push_back(ids[i]);
      if ((int64_t)buf.size() == shard_tokens) flush();
    }
    total += (int64_t)(end - begin);
  }
  void flush() {
    if (buf.empty()) return;
    const std::string name = fmt::format("{}_{:03d}.bin", prefix, files.size());
    write_token_shard((fs::path(dir) / name).string(), buf, vocab);
    files.push_back(name);
    buf.clear();
  }
};
}  // namespace

PrepareStats prepare_data(const tokenizer::Tokenizer& tok, const std::vector<std::string>& files,
                          const std::string& out_dir, const PrepareOptions& opts) {
  LLAMBA_ENSURE(!files.empty(), "prepare-data: no input files");
  LLAMBA_ENSURE(opts.val_fraction >= 0 && opts.val_fraction < 1, "prepare-data: val fraction {} must be in [0, 1)",
                opts.val_fraction);
  LLAMBA_ENSURE(opts.shard_tokens >= 1, "prepare-data: shard size must be >= 1 token");
  fs::create_directories(out_dir);
  const int64_t V = tok.vocab_size();
  SplitWriter train{out_dir, "train", opts.shard_tokens, V, {}, {}, 0};
  SplitWriter val{out_dir, "val", opts.shard_tokens, V, {}, {}, 0};
  PrepareStats st;
  for (const auto& path : files) {
    const std::string text = io::read_text_file(path);  // .xz decompressed (the corpora in data/ ship so)
    st.bytes += (int64_t)text.size();
    std::vector<int32_t> ids = tok.encode(text, tok.add_bos_default(), false);
    if (opts.add_eos && tok.eos_id() >= 0) ids.push_back(tok.eos_id());
    const size_t n_val = (size_t)((double)ids.size() * opts.val_fraction);
    train.add(ids, 0, ids.size() - n_val);
    val.add(ids, ids.size() - n_val, ids.size());
  }
  train.flush();
  val.flush();
  LLAMBA_ENSURE(!train.files.empty(), "prepare-data: the inputs produced no tokens");
  const nlohmann::json meta = {{"version", 1},           {"vocab_size", V},
                               {"eos_id", tok.eos_id()}, {"tokenizer", opts.tokenizer_path},
                               {"tokenizer_fingerprint", tok.fingerprint()},
                               {"train", train.files},   {"val", val.files},
                               {"train_tokens", train.total}, {"val_tokens", val.total},
                               {"sources", files}};
  std::ofstream(fs::path(out_dir) / "meta.json") << meta.dump(2) << "\n";
  st.train_tokens = train.total;
  st.val_tokens = val.total;
  st.train_shards = (int64_t)train.files.size();
  st.val_shards = (int64_t)val.files.size();
  return st;
}

}  // namespace llamba::train
