// layernorm reference in double.
#include "ops/layernorm.h"

#include <cmath>

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void layernorm_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                       const core::TensorView& b, double eps) {
  check_rows("ref::layernorm_forward", y, x);
  check_float("ref::layernorm_forward", x);
  const int64_t M = x.size(0), D = x.size(1);
  for (int64_t m = 0; m < M; ++m) {
    const int64_t o = m * x.strides[0];
    double mean = 0, var = 0;
    for (int64_t i = 0; i < D; ++i) mean += ld(x, o + i);
    mean /= (double)D;
    for (int64_t i = 0; i < D; ++i) var += (ld(x, o + i) - mean) * (ld(x, o + i) - mean);
    const double r = 1.0 / std::sqrt(var / (double)D + eps);
    for (int64_t i = 0; i < D; ++i)
      st(y, m * y.strides[0] + i, (ld(x, o + i) - mean) * r * ld(w, i) + (b.data ? ld(b, i) : 0.0));
  }
}

}  // namespace llamba::ops::ref
