// rope reference: angles and rotation in double (frequencies as given).
#include "ops/rope.h"

#include <cmath>

#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void rope_forward(const core::TensorView& x, std::span<const int64_t> positions, std::span<const float> inv_freq,
                  RopeStyle style) {
  const int64_t T = x.size(0), H = x.size(1), half = (int64_t)inv_freq.size();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < half; ++i) {
        const double a = (double)positions[t] * (double)inv_freq[i];
        const int64_t base = t * x.strides[0] + h * x.strides[1];
        const int64_t ia = base + (style == RopeStyle::kInterleaved ? 2 * i : i);
        const int64_t ib = base + (style == RopeStyle::kInterleaved ? 2 * i + 1 : i + half);
        const double x0 = ld(x, ia), x1 = ld(x, ib);
        st(x, ia, x0 * std::cos(a) - x1 * std::sin(a));
        st(x, ib, x1 * std::cos(a) + x0 * std::sin(a));
      }
}

}  // namespace llamba::ops::ref
