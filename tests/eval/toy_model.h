// A model and tokenizer small enough to check the evaluation rules by hand: one token per byte (ids 0..255),
// BOS 256, EOS 257; logits at each position = A[token] + B[first token of the sequence], so a prediction depends on
// the current token and on what the sequence started with (which makes BOS placement observable), and A makes
// "next byte = this byte + 1" the strong favourite. `expected_logprobs` computes the same from the definitions.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "models/model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace llamba::test {

constexpr int32_t kToyV = 258, kToyBos = 256, kToyEos = 257;

inline std::unique_ptr<tokenizer::Tokenizer> toy_tokenizer(bool add_bos) {
  tokenizer::TokenizerModel m;
  m.path = "toy";
  for (int b = 0; b < 256; ++b) m.vocab.set(b, std::string(1, (char)b), tokenizer::TokenType::kNormal, true);
  m.vocab.set(kToyBos, "<s>", tokenizer::TokenType::kControl, false);
  m.vocab.set(kToyEos, "</s>", tokenizer::TokenType::kControl, false);
  m.pre_patterns = {".+"};
  m.bos = kToyBos;
  m.eos = kToyEos;
  m.add_bos = add_bos;
  return std::make_unique<tokenizer::Tokenizer>(std::move(m));
}

inline float toy_logit(int32_t token, int32_t first, int32_t v) {
  const uint64_t h = ((uint64_t)token * 1000003u + (uint64_t)v * 7919u) % 1009u;
  const uint64_t g = ((uint64_t)first * 31u + (uint64_t)v * 17u) % 101u;
  return (float)h / 1009.0f + (float)g / 404.0f + (v == (token + 1) % 256 ? 4.0f : 0.0f);
}

class ToyModel final : public models::Model {
 public:
  ToyModel() { info_.n_vocab = kToyV; }
  const models::ModelInfo& info() const override { return info_; }
  std::unique_ptr<models::SequenceState> new_state() const override {
    auto s = std::make_unique<models::RecurrentState>();
    s->layers.resize(1);
    s->layers[0].conv = core::Tensor::zeros(core::DType::kF32, {1});
    return s;
  }
  int64_t state_bytes(int64_t) const override { return 4; }
  void forward(ops::Context&, std::span<const int32_t> tokens, int64_t batch,
               std::span<models::SequenceState* const> states, const core::TensorView& logits_view,
               const models::ForwardOptions& opts) const override {
    const int64_t T = (int64_t)tokens.size() / batch;
    float* logits = logits_view.f32();
    for (int64_t b = 0; b < batch; ++b) {
      auto* st = static_cast<models::RecurrentState*>(states[b]);
      float& first = st->layers[0].conv.f32()[0];
      if (st->n_past == 0 && T > 0) first = (float)tokens[b * T];
      const int64_t from = opts.all_logits ? std::min(opts.logits_from, T) : T - 1;
      for (int64_t t = from; t < T; ++t) {
        float* out = logits + (opts.all_logits ? (b * (T - from) + t - from) : b) * kToyV;
        for (int32_t v = 0; v < kToyV; ++v) out[v] = toy_logit(tokens[b * T + t], (int32_t)first, v);
      }
      st->n_past += T;
    }
  }
  void for_each_tensor(const models::TensorVisitor&) const override {}

 private:
  models::ModelInfo info_;
};

// log p(seq[p + 1] | seq[0..p]) for p in [first, size − 1), in double from the definition; `greedy` receives
// whether each target is the argmax (lowest id on ties).
inline std::vector<double> expected_logprobs(const std::vector<int32_t>& seq, int64_t first,
                                             std::vector<bool>* greedy = nullptr) {
  std::vector<double> out;
  for (int64_t p = first; p + 1 < (int64_t)seq.size(); ++p) {
    double mx = -1e300, sum = 0;
    int32_t arg = 0;
    for (int32_t v = 0; v < kToyV; ++v) {
      const double l = toy_logit(seq[p], seq[0], v);
      if (l > mx) mx = l, arg = v;
    }
    for (int32_t v = 0; v < kToyV; ++v) sum += std::exp(toy_logit(seq[p], seq[0], v) - mx);
    out.push_back(toy_logit(seq[p], seq[0], seq[p + 1]) - mx - std::log(sum));
    if (greedy) greedy->push_back(arg == seq[p + 1]);
  }
  return out;
}

}  // namespace llamba::test
