// linear reference: double accumulation, one output at a time.
#include "ops/linear.h"

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void linear_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                    const core::TensorView& bias) {
  check_linear_shapes("ref::linear_forward", y, x, w, bias);
  check_float("ref::linear_forward", x);
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  for (int64_t n = 0; n < N; ++n) {
    const std::vector<double> wr = row(w, n);
    for (int64_t m = 0; m < M; ++m) {
      double s = bias.data ? ld(bias, n) : 0.0;
      for (int64_t k = 0; k < K; ++k) s += ld(x, m * x.strides[0] + k) * wr[k];
      st(y, m * y.strides[0] + n, s);
    }
  }
}

}  // namespace llamba::ops::ref
