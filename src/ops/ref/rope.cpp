// rope reference: angles and rotation in double (frequencies as given), forward and backward, through the
// templated kernels of rope_impl.h. Backward convention: dx is accumulated into (+=); callers zero it.
#include "ops/rope.h"

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"
#include "ops/ref/rope_impl.h"

namespace llamba::ops::ref {

void rope_forward(const core::TensorView& x, std::span<const int64_t> positions, std::span<const float> inv_freq,
                  RopeStyle style) {
  check_rope("ref::rope_forward", x, {}, positions, inv_freq);
  std::vector<double> xd = gather(x);
  impl::rope_forward(xd.data(), positions.data(), inv_freq.data(), (int64_t)inv_freq.size(), x.size(0), x.size(1),
                     x.size(2), style == RopeStyle::kInterleaved);
  scatter(x, xd);
}

void rope_backward(const core::TensorView& dx, const core::TensorView& dy, std::span<const int64_t> positions,
                   std::span<const float> inv_freq, RopeStyle style) {
  check_rope("ref::rope_backward", dy, dx, positions, inv_freq);
  std::vector<double> g = grad_buffer(dx);
  if (g.empty()) return;
  impl::rope_backward(g.data(), gather(dy).data(), positions.data(), inv_freq.data(), (int64_t)inv_freq.size(),
                      dy.size(0), dy.size(1), dy.size(2), style == RopeStyle::kInterleaved);
  accumulate(dx, g);
}

}  // namespace llamba::ops::ref
