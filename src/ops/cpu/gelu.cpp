// gelu on the CPU: elementwise in fp32 (erff), rows split across threads.
#include "ops/gelu.h"

#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops {

void gelu_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& x,
                  const core::TensorView& bias) {
  check_rows("gelu_forward", out, x);
  const int64_t M = out.size(0), F = out.size(1);
  const float* b = bias.data ? bias.f32() : nullptr;
  LLAMBA_CHECK(!b || bias.numel() == F, "[gelu_forward] bias {} for width {}", bias.shape.str(), F);
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* xr = x.f32() + m * x.strides[0];
      float* o = out.f32() + m * out.strides[0];
      for (int64_t i = 0; i < F; ++i) {
        const float g = b ? xr[i] + b[i] : xr[i];
        o[i] = 0.5f * g * (1.0f + std::erf(g * 0.70710678118654752f));
      }
    }
  });
}

}  // namespace llamba::ops
