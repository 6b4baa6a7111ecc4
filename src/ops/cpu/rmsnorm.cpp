// rmsnorm on the CPU, forward and backward: rows split across threads; sums accumulated in fp32 like torch.
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/rmsnorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {

void rmsnorm_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                     const core::TensorView& w, float eps) {
  check_rows("rmsnorm_forward", y, x);
  const int64_t M = x.size(0), D = x.size(1);
  LLAMBA_ENSURE(w.rank() == 1 && w.size(0) == D, "[rmsnorm_forward] weight {} for width {}", w.shape.str(), D);
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

// Pass 1 (rows across threads): r_m and dx. Pass 2 (column blocks across threads): dw, each column summed over
// rows in a fixed order, so the result does not depend on the thread count.
void rmsnorm_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                      const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w, float eps) {
  check_rmsnorm_backward("rmsnorm_backward", dx, dw, dy, x, w);
  const int64_t M = x.size(0), D = x.size(1);
  const float* wp = w.f32();
  std::vector<float> rs(M);
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* xr = x.f32() + m * x.strides[0];
      const float* g = dy.f32() + m * dy.strides[0];
      float ss = 0, c = 0;
      for (int64_t i = 0; i < D; ++i) {
        ss += xr[i] * xr[i];
        c += wp[i] * g[i] * xr[i];
      }
      const float r = 1.0f / std::sqrt(ss / (float)D + eps);
      rs[m] = r;
      if (!dx.data) continue;
      const float k = r * r * r * c / (float)D;
      float* o = dx.f32() + m * dx.strides[0];
      for (int64_t i = 0; i < D; ++i) o[i] += r * wp[i] * g[i] - k * xr[i];
    }
  });
  if (!dw.data) return;
  constexpr int64_t kCols = 256;
  pool.run_tasks((D + kCols - 1) / kCols, [&](int64_t blk) {
    const int64_t i0 = blk * kCols, i1 = std::min(D, i0 + kCols);
    float acc[kCols] = {};
    for (int64_t m = 0; m < M; ++m) {
      const float* xr = x.f32() + m * x.strides[0];
      const float* g = dy.f32() + m * dy.strides[0];
      for (int64_t i = i0; i < i1; ++i) acc[i - i0] += g[i] * xr[i] * rs[m];
    }
    for (int64_t i = i0; i < i1; ++i) dw.f32()[i] += acc[i - i0];
  });
}

}  // namespace llamba::ops::cpu
