// rmsnorm on the CPU: rows split across threads; mean of squares accumulated in fp32 like torch.
#include "ops/rmsnorm.h"

#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops {

void rmsnorm_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                     const core::TensorView& w, float eps) {
  check_rows("rmsnorm_forward", y, x);
  const int64_t M = x.size(0), D = x.size(1);
  LLAMBA_CHECK(w.rank() == 1 && w.size(0) == D, "[rmsnorm_forward] weight {} for width {}", w.shape.str(), D);
  const float* wp = w.f32();
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* xr = x.f32() + m * x.strides[0];
      float* yr = y.f32() + m * y.strides[0];
      float ss = 0;
      for (int64_t i = 0; i < D; ++i) ss += xr[i] * xr[i];
      const float r = 1.0f / std::sqrt(ss / (float)D + eps);
      for (int64_t i = 0; i < D; ++i) yr[i] = wp[i] * (xr[i] * r);
    }
  });
}

}  // namespace llamba::ops
