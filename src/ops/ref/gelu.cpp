// gelu reference in double.
#include "ops/gelu.h"

#include <cmath>

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void gelu_forward(const core::TensorView& out, const core::TensorView& x, const core::TensorView& bias) {
  check_rows("ref::gelu_forward", out, x);
  check_float("ref::gelu_forward", x);
  const int64_t M = out.size(0), F = out.size(1);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < F; ++i) {
      double g = ld(x, m * x.strides[0] + i);
      if (bias.data) g += ld(bias, i);
      st(out, m * out.strides[0] + i, 0.5 * g * (1.0 + std::erf(g / std::sqrt(2.0))));
    }
}

}  // namespace llamba::ops::ref
