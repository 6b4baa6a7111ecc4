// A tiny random Llamba model carrying the default model's tokenizer (SmolLM2's 49,152 tokens), loaded once per
// test process, and helpers to drain a scheduler job. Tests skip when the default model is not installed.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "io/gguf.h"
#include "models/model.h"
#include "models/tiny_llamba.h"
#include "serve/scheduler.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace llamba::test {

struct TinyServeModel {
  std::unique_ptr<io::GgufFile> file;
  std::unique_ptr<models::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tok;
  std::string path;
};

// nullptr without the default model (its tokenizer is borrowed).
inline const TinyServeModel* tiny_serve_model() {
  static std::unique_ptr<TinyServeModel> m = [] {
    std::unique_ptr<TinyServeModel> r;
    const std::string base = default_model_path();
    if (base.empty()) return r;
    const io::GgufFile base_file = io::GgufFile::open(base);
    const auto base_tok = tokenizer::Tokenizer::from_gguf(base_file);
    TinyLlambaShape s;
    s.vocab = base_tok->vocab_size();
    r = std::make_unique<TinyServeModel>();
    r->path = write_tiny_llamba(s, 11, "serve", [&](io::GgufWriter& w) { base_tok->write_gguf_metadata(w); });
    r->file = std::make_unique<io::GgufFile>(io::GgufFile::open(r->path));
    r->model = models::load_model(*r->file);
    r->tok = tokenizer::Tokenizer::from_gguf(*r->file);
    return r;
  }();
  return m.get();
}

#define LLAMBA_NEED_TINY_SERVE_MODEL(m)                                                   \
  const ::llamba::test::TinyServeModel* m = ::llamba::test::tiny_serve_model();           \
  if (!m) GTEST_SKIP() << "the default model (for its tokenizer) is not installed: scripts/get_model.sh"

struct JobResult {
  std::string text, finish_reason, error;
  serve::Usage usage;
  std::vector<serve::TokenLogprob> logprobs;
  int pieces = 0;
};

inline JobResult drain(serve::Job& job) {
  JobResult r;
  for (serve::Event e; job.next(e);) {
    r.text += e.text;
    r.pieces += !e.text.empty();
    r.logprobs.insert(r.logprobs.end(), e.logprobs.begin(), e.logprobs.end());
    if (e.final) {
      r.finish_reason = e.finish_reason;
      r.error = e.error;
      r.usage = e.usage;
    }
  }
  return r;
}

inline serve::GenParams greedy(int64_t max_tokens) {
  serve::GenParams p;
  p.max_tokens = max_tokens;
  p.sampling.temperature = 0;
  p.ignore_eos = true;  // a random model may end anywhere; a fixed length keeps the comparisons whole
  return p;
}

}  // namespace llamba::test
