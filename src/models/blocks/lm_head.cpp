// Final norm + head, forward and backward.
#include "models/blocks/lm_head.h"

#include <algorithm>

#include "ops/linear.h"
#include "ops/memory.h"
#include "ops/rmsnorm.h"

namespace llamba::models {

void lm_head_forward(ops::Context& ctx, const core::TensorView& h, int64_t batch, const LmHeadWeights& w,
                     const core::TensorView& logits, const ForwardOptions& opts, const core::TensorView& keep_normed) {
  // logits' shape was checked by the model's forward (check_logits_view).
  const int64_t M = h.size(0), D = h.size(1), T = M / batch, V = w.head.size(0);
  ops::Scratch scratch(ctx);
  core::TensorView hn = keep_normed;
  if (!hn.data && (opts.all_logits || opts.observer)) hn = scratch.empty(core::DType::kF32, {M, D});  // normed below
  if (hn.data) {
    ops::rmsnorm_forward(ctx, hn, h, w.norm, w.eps);
    if (opts.observer) (*opts.observer)("final_hidden", -1, hn);
  }
  if (opts.all_logits && opts.logits_from <= 0) {
    ops::linear_forward(ctx, logits.reshape({M, V}), hn, w.head);
    return;
  }
  if (opts.all_logits) {  // rows [from, T) of each batch row
    const int64_t from = std::min(opts.logits_from, T);
    for (int64_t b = 0; b < batch && from < T; ++b)
      ops::linear_forward(ctx, logits.select(0, b), hn.slice(0, b * T + from, (b + 1) * T), w.head);
    return;
  }
  const core::TensorView last = scratch.empty(core::DType::kF32, {batch, D});  // every row copied in
  for (int64_t b = 0; b < batch; ++b) ops::copy(ctx, last.select(0, b), (hn.data ? hn : h).select(0, (b + 1) * T - 1));
  if (!hn.data) ops::rmsnorm_forward(ctx, last, last, w.norm, w.eps);
  ops::linear_forward(ctx, logits, last, w.head);
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
