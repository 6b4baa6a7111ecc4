// Scorer: length-sorted batches through Model::forward (all logits), then ops::token_scores on the scored rows.
#include "eval/scorer.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/check.h"
#include "core/progress.h"
#include "ops/token_scores.h"

namespace llamba::eval {

double SequenceScores::sum_logprob() const { return std::accumulate(logprob.begin(), logprob.end(), 0.0); }

bool SequenceScores::all_greedy() const {
  return std::all_of(greedy.begin(), greedy.end(), [](uint8_t g) { return g != 0; });
}

Scorer::Scorer(ops::Context& ctx, const models::Model& model, const models::Model* base, ScorerOptions opts)
    : ctx_(ctx), model_(model), base_(base), opts_(std::move(opts)) {
  LLAMBA_ENSURE(!base || base->info().n_vocab == model.info().n_vocab,
                "the base model has {} vocabulary entries, the model {}: they must share a tokenizer",
                base ? base->info().n_vocab : 0, model.info().n_vocab);
  LLAMBA_ENSURE(opts_.batch >= 1, "batch size {} must be at least 1", opts_.batch);
}

std::vector<SequenceScores> Scorer::score(const std::vector<Sequence>& seqs,
                                          const std::function<void(size_t, const SequenceScores&)>& done) {
  const int64_t V = model_.info().n_vocab;
  int64_t total = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const Sequence& s = seqs[i];
    LLAMBA_ENSURE(s.first >= 0 && s.first + 1 < (int64_t)s.tokens.size(),
                  "sequence {}: {} tokens leave nothing to score from position {}", i, s.tokens.size(), s.first);
    for (int32_t t : s.tokens)
      LLAMBA_ENSURE(t >= 0 && t < V, "sequence {}: token {} is outside the vocabulary [0, {})", i, t, V);
    total += (int64_t)s.tokens.size();
  }
  std::vector<size_t> order(seqs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return seqs[a].tokens.size() > seqs[b].tokens.size(); });
  std::vector<SequenceScores> out(seqs.size());
  core::ProgressBar bar(opts_.label, total, "tok", opts_.progress);
  const int64_t per_token = V * (int64_t)sizeof(float) * (base_ ? 2 : 1);
  int64_t done_tokens = 0;
  for (size_t k = 0; k < order.size();) {
    const int64_t T = (int64_t)seqs[order[k]].tokens.size();
    int64_t B = 1;  // the longest row sets T; more rows while the logits fit the budget
    while (B < opts_.batch && k + B < order.size() && (B + 1) * T * per_token <= opts_.logits_budget) ++B;
    std::vector<int32_t> tokens((size_t)(B * T), 0);  // padding: token 0, never scored
    int64_t from = T;  // logits only from the earliest scored position of the batch on
    for (int64_t b = 0; b < B; ++b) {
      const Sequence& s = seqs[order[k + b]];
      std::copy(s.tokens.begin(), s.tokens.end(), tokens.begin() + b * T);
      from = std::min(from, s.first);
    }
    const int64_t TL = T - from;
    const auto t0 = std::chrono::steady_clock::now();
    models::ForwardOptions fo;
    fo.all_logits = true;
    fo.logits_from = from;
    logits_.resize((size_t)(B * TL * V));
    models::FreshStates states(model_, B);
    model_.forward(ctx_, tokens, B, states.ptrs, core::view_f32(logits_, {B, TL, V}), fo);
    if (base_) {
      base_logits_.resize(logits_.size());
      models::FreshStates bs(*base_, B);
      base_->forward(ctx_, tokens, B, bs.ptrs, core::view_f32(base_logits_, {B, TL, V}), fo);
    }
    forward_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tokens_ += B * T;
    for (int64_t b = 0; b < B; ++b) {
      const size_t i = order[k + b];
      const Sequence& s = seqs[i];
      const int64_t n = (int64_t)s.tokens.size() - 1 - s.first;
      SequenceScores& r = out[i];
      r.logprob.resize(n);
      r.greedy.resize(n);
      std::vector<int32_t> argmax(n), base_argmax(base_ ? n : 0);
      if (base_) r.base_logprob.resize(n), r.kl.resize(n), r.same_top.resize(n);
      const std::vector<int32_t> targets(s.tokens.begin() + s.first + 1, s.tokens.end());
      auto rows = [&](std::vector<float>& l) {
        return core::TensorView::contiguous(l.data() + (b * TL + s.first - from) * V, core::DType::kF32, {n, V});
      };
      ops::token_scores_forward(ctx_, rows(logits_), base_ ? rows(base_logits_) : core::TensorView{}, targets,
                                {r.logprob, argmax, r.base_logprob, base_argmax, r.kl});
      for (int64_t j = 0; j < n; ++j) {
        r.greedy[j] = argmax[j] == targets[j];
        if (base_) r.same_top[j] = argmax[j] == base_argmax[j];
      }
      done_tokens += (int64_t)s.tokens.size();
      if (done) done(i, r);
    }
    bar.update(done_tokens, opts_.status ? opts_.status() : "");
    k += (size_t)B;
  }
  bar.finish(opts_.status ? opts_.status() : "");
  return out;
}

}  // namespace llamba::eval
