// Final norm + head, forward and backward.
#include "models/blocks/lm_head.h"

#include <algorithm>
#include <cstring>

#include "ops/linear.h"
#include "ops/rmsnorm.h"

namespace llamba::models {

void lm_head_forward(ops::Context& ctx, const core::TensorView& h, int64_t batch, const LmHeadWeights& w,
                     const core::TensorView& logits_out, const ForwardOptions& opts,
                     const core::TensorView& keep_normed) {
  const int64_t M = h.size(0), D = h.size(1), T = M / batch, V = w.head.size(0);
  float* logits = logits_out.f32();  // its shape was checked by the model's forward (check_logits_view)
  core::Tensor hn_owned;
  core::TensorView hn = keep_normed;
  if (!hn.data && (opts.all_logits || opts.observer)) {
    hn_owned = core::Tensor::zeros(core::DType::kF32, {M, D});
    hn = hn_owned.view();
  }
  if (hn.data) {
    ops::rmsnorm_forward(ctx, hn, h, w.norm, w.eps);
    if (opts.observer) (*opts.observer)("final_hidden", -1, hn);
  }
  if (opts.all_logits && opts.logits_from <= 0) {
    ops::linear_forward(ctx, core::TensorView::contiguous(logits, core::DType::kF32, {M, V}), hn, w.head);
    return;
  }
  if (opts.all_logits) {  // rows [from, T) of each batch row
    const int64_t from = std::min(opts.logits_from, T), n = T - from;
    for (int64_t b = 0; b < batch && n > 0; ++b)
      ops::linear_forward(ctx, core::TensorView::contiguous(logits + b * n * V, core::DType::kF32, {n, V}),
                          hn.slice(0, b * T + from, (b + 1) * T), w.head);
    return;
  }
  core::Tensor last = core::Tensor::zeros(core::DType::kF32, {batch, D});
  for (int64_t b = 0; b < batch; ++b) {
    const float* src = (hn.data ? hn.f32() : h.f32()) + ((b + 1) * T - 1) * D;
    std::memcpy(last.f32() + b * D, src, D * sizeof(float));
  }
  if (!hn.data) ops::rmsnorm_forward(ctx, last, last, w.norm, w.eps);
  ops::linear_forward(ctx, core::TensorView::contiguous(logits, core::DType::kF32, {batch, V}), last, w.head);
}

void lm_head_backward(ops::Context& ctx, const core::TensorView& dh, const core::TensorView& dnorm,
                      const core::TensorView& dhead, const core::TensorView& dlogits, const core::TensorView& h,
                      const core::TensorView& hn, const LmHeadWeights& w) {
  const int64_t M = h.size(0), D = h.size(1);
  core::Tensor dhn = core::Tensor::zeros(core::DType::kF32, {M, D});
  ops::linear_backward(ctx, dhn, dhead, {}, dlogits, hn, w.head);
  ops::rmsnorm_backward(ctx, dh, dnorm, dhn, h, w.norm, w.eps);
}

}  // namespace llamba::models
