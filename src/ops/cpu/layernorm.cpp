// layernorm on the CPU: rows split across threads; two-pass mean and variance accumulated in double (rows are
// model widths, so this costs nothing and keeps the variance free of cancellation), normalization in fp32.
#include "ops/layernorm.h"

#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops {

void layernorm_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                       const core::TensorView& w, const core::TensorView& b, float eps) {
  check_rows("layernorm_forward", y, x);
  const int64_t M = x.size(0), D = x.size(1);
  LLAMBA_CHECK(w.rank() == 1 && w.size(0) == D && (!b.data || (b.rank() == 1 && b.size(0) == D)),
               "[layernorm_forward] weight {} / bias {} for width {}", w.shape.str(), b.shape.str(), D);
  const float* wp = w.f32();
  const float* bp = b.data ? b.f32() : nullptr;
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* xr = x.f32() + m * x.strides[0];
      float* yr = y.f32() + m * y.strides[0];
      double mean = 0, var = 0;
      for (int64_t i = 0; i < D; ++i) mean += xr[i];
      mean /= (double)D;
      for (int64_t i = 0; i < D; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      const float r = (float)(1.0 / std::sqrt(var / (double)D + eps)), mu = (float)mean;
      for (int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mu) * r * wp[i] + (bp ? bp[i] : 0.0f);
    }
  });
}

}  // namespace llamba::ops
