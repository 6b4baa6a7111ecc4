// `llamba tokenize` / `llamba detokenize`: text on stdin -> ids on one line, and back. The tokenizer FILE may
// be a tiktoken rank file, an HF tokenizer.json or any GGUF file with tokenizer.ggml.* metadata. Also the
// hook `llamba convert` uses to embed a checkpoint's tokenizer.
#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "core/check.h"
#include "tokenizer/tokenizer.h"

namespace llamba::cli {

namespace {

std::string read_stdin() {
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) s.append(buf, n);
  LLAMBA_ENSURE(!std::ferror(stdin), "error reading standard input");
  return s;
}

struct TokenizeArgs {
  std::string file;
  bool bos = false;
  bool special = false;
};

}  // namespace

void register_tokenize(CLI::App& app) {
  static TokenizeArgs a;
  auto* tok = app.add_subcommand("tokenize", "Print the token ids of UTF-8 text read from stdin, on one line");
  tok->add_option("-t,--tokenizer", a.file, "tiktoken file, tokenizer.json or GGUF file")->required();
  tok->add_flag("--bos", a.bos, "prepend the BOS token (none is added otherwise)");
  tok->add_flag("--special", a.special, "parse special tokens such as <|eot_id|> in the text");
  tok->callback([] {
    const auto t = tokenizer::Tokenizer::load(a.file);
    if (a.bos && t->bos_id() < 0) std::fprintf(stderr, "llamba: warning: %s has no BOS token\n", a.file.c_str());
    const auto ids = t->encode(read_stdin(), a.bos, a.special);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) line += ' ';
      line += std::to_string(ids[i]);
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  });

  static std::string detok_file;
  auto* det = app.add_subcommand("detokenize", "Print the bytes of the token ids read from stdin");
  det->add_option("-t,--tokenizer", detok_file, "tiktoken file, tokenizer.json or GGUF file")->required();
  det->callback([] {
    const auto t = tokenizer::Tokenizer::load(detok_file);
    const std::string in = read_stdin();
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i < in.size()) {
      if (std::isspace((unsigned char)in[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < in.size() && !std::isspace((unsigned char)in[j])) ++j;
      const std::string word = in.substr(i, j - i);
      char* end = nullptr;
      const long v = std::strtol(word.c_str(), &end, 10);
      LLAMBA_ENSURE(end == word.c_str() + word.size() && v >= 0 && v < t->vocab_size(),
                    "'{}' is not a token id of {} (vocabulary size {})", word, detok_file, t->vocab_size());
      ids.push_back((int32_t)v);
      i = j;
    }
    const std::string text = t->decode(ids);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
}

}  // namespace llamba::cli
