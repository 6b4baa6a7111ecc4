// Final norm + head.
#include "models/blocks/lm_head.h"

#include "ops/linear.h"
#include "ops/rmsnorm.h"

namespace llamba::models {

void lm_head_forward(core::ThreadPool& pool, const core::TensorView& h, int64_t batch, const LmHeadWeights& w,
                     float* logits, const ForwardOptions& opts) {
  const int64_t M = h.size(0), D = h.size(1), T = M / batch, V = w.head.size(0);
  core::Tensor hn;
  if (opts.all_logits || opts.observer) {
    hn = core::Tensor::zeros(core::DType::kF32, {M, D});
    ops::rmsnorm_forward(pool, hn, h, w.norm, w.eps);
    if (opts.observer) (*opts.observer)("final_hidden", -1, hn.view());
  }
  if (opts.all_logits) {
    ops::linear_forward(pool, core::TensorView::contiguous(logits, core::DType::kF32, {M, V}), hn, w.head);
    return;
  }
  core::Tensor last = core::Tensor::zeros(core::DType::kF32, {batch, D});
  for (int64_t b = 0; b < batch; ++b) {
    const float* src = (hn.empty() ? h.f32() : hn.f32()) + ((b + 1) * T - 1) * D;
    std::copy(src, src + D, last.f32() + b * D);
  }
  if (hn.empty()) ops::rmsnorm_forward(pool, last, last, w.norm, w.eps);
  ops::linear_forward(pool, core::TensorView::contiguous(logits, core::DType::kF32, {batch, V}), last, w.head);
}

}  // namespace llamba::models
