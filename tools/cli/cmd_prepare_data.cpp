// `llamba prepare-data -t TOKENIZER FILES... -o DIR`: text to token shards with a held-out split.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/range_check.h"
#include "train/data/prepare.h"

namespace llamba::cli {

void register_prepare_data(CLI::App& app) {
  auto* cmd = app.add_subcommand("prepare-data", "Tokenize text files into token shards for `llamba train`");
  static std::string tok_path, out;
  static std::vector<std::string> files;
  static train::PrepareOptions opts;
  static bool no_eos = false;
  cmd->add_option("-t,--tokenizer", tok_path, "tiktoken file, tokenizer.json or GGUF")->required()->check(CLI::ExistingFile);
  cmd->add_option("files", files, "Text files (one document each)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", out, "Output directory")->required();
  cmd->add_option("--val-fraction", opts.val_fraction, "Held-out share of every document")->check(in_range(0.0, 0.99));
  cmd->add_option("--shard-tokens", opts.shard_tokens, "Tokens per shard file")->check(in_range(int64_t(1), int64_t(1) << 40));
  cmd->add_flag("--no-eos", no_eos, "Do not append EOS after each document");
  cmd->callback([] {
    const auto tok = tokenizer::Tokenizer::load(tok_path);
    opts.add_eos = !no_eos;
    opts.tokenizer_path = tok_path;
    const auto st = train::prepare_data(*tok, files, out, opts);
    fmt::print("{}: {} train tokens in {} shard(s), {} held-out tokens in {} shard(s) from {} bytes\n", out,
               st.train_tokens, st.train_shards, st.val_tokens, st.val_shards, st.bytes);
  });
}

}  // namespace llamba::cli
