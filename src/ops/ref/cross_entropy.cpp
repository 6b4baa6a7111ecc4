// cross_entropy reference in double, forward and backward, through the templated kernels of
// cross_entropy_impl.h. Backward convention: the gradient is accumulated into (+=); callers zero it.
#include "ops/cross_entropy.h"

#include "ops/check_shapes.h"
#include "ops/ref/cross_entropy_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

double cross_entropy_forward(const core::TensorView& logits, std::span<const int32_t> targets) {
  check_cross_entropy("ref::cross_entropy_forward", {}, logits, targets);
  return impl::cross_entropy_forward(gather(logits).data(), targets.data(), logits.size(0), logits.size(1));
}

void cross_entropy_backward(const core::TensorView& dlogits, const core::TensorView& logits,
                            std::span<const int32_t> targets, double dloss) {
  check_cross_entropy("ref::cross_entropy_backward", dlogits, logits, targets);
  std::vector<double> g = grad_buffer(dlogits);
  if (g.empty()) return;
  impl::cross_entropy_backward(g.data(), gather(logits).data(), targets.data(), logits.size(0), logits.size(1), dloss);
  accumulate(dlogits, g);
}

}  // namespace llamba::ops::ref
