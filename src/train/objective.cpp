// Next-token cross-entropy objective.
#include "train/objective.h"

#include "ops/cross_entropy.h"

namespace llamba::train {

void split_window(std::span<const int32_t> window, int64_t seq_len, int32_t answer_token, std::vector<int32_t>& in,
                  std::vector<int32_t>& tgt) {
  const int64_t T = seq_len, B = (int64_t)window.size() / (T + 1);
  in.resize(B * T);
  tgt.resize(B * T);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      in[b * T + t] = window[b * (T + 1) + t];
      const bool scored = answer_token < 0 || in[b * T + t] == answer_token;
      tgt[b * T + t] = scored ? window[b * (T + 1) + t + 1] : -1;
    }
}

double NextTokenObjective::accumulate(ops::Context& ctx, const models::Model& model, std::span<const int32_t> window,
                                      int64_t batch, int64_t seq_len, models::GradientMap& grads, float scale) {
  const int64_t B = batch, T = seq_len, V = model.info().n_vocab;
  std::vector<int32_t> in, tgt;
  split_window(window, T, answer_token_, in, tgt);
  core::Tensor logits = core::Tensor::zeros(core::DType::kF32, {B, T, V});
  auto cache = model.forward_train(ctx, in, B, logits.view());
  const core::TensorView lv = logits.view().reshape({B * T, V});
  const double loss = ops::cross_entropy_forward(ctx, lv, tgt);
  core::Tensor dlogits = core::Tensor::zeros(core::DType::kF32, {B * T, V});
  ops::cross_entropy_backward(ctx, dlogits, lv, tgt, scale);
  model.backward(ctx, *cache, dlogits.view().reshape({B, T, V}), grads);
  return loss;
}

}  // namespace llamba::train
