// rmsnorm reference in double.
#include "ops/rmsnorm.h"

#include <cmath>

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void rmsnorm_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w, double eps) {
  check_rows("ref::rmsnorm_forward", y, x);
  check_float("ref::rmsnorm_forward", x);
  const int64_t M = x.size(0), D = x.size(1);
  for (int64_t m = 0; m < M; ++m) {
    double ss = 0;
    for (int64_t i = 0; i < D; ++i) ss += ld(x, m * x.strides[0] + i) * ld(x, m * x.strides[0] + i);
    const double r = 1.0 / std::sqrt(ss / (double)D + eps);
    for (int64_t i = 0; i < D; ++i) st(y, m * y.strides[0] + i, ld(w, i) * ld(x, m * x.strides[0] + i) * r);
  }
}

}  // namespace llamba::ops::ref
