// layernorm on the CPU, forward and backward: rows split across threads; per-row mean, variance and the
// backward's two row sums accumulated in double (rows are model widths, so this costs nothing and keeps the
// variance free of cancellation), elementwise work in fp32. dw, db: column blocks summed over rows in a fixed
// order (independent of the thread count).
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/layernorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {

namespace {
// Row mean and r = 1 / sqrt(var + eps), two passes in double.
inline void row_stats(const float* xr, int64_t D, float eps, float& mu, float& r) {
  double mean = 0, var = 0;
  for (int64_t i = 0; i < D; ++i) mean += xr[i];
  mean /= (double)D;
  for (int64_t i = 0; i < D; ++i) var += (xr[i] - mean) * (xr[i] - mean);
  r = (float)(1.0 / std::sqrt(var / (double)D + eps));
  mu = (float)mean;
}
}  // namespace

void layernorm_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                       const core::TensorView& w, const core::TensorView& b, float eps) {
  check_layernorm("layernorm_forward", y, x, w, b);
  const int64_t M = x.size(0), D = x.size(1);
  const float* wp = w.f32();
  const float* bp = b.data ? b.f32() : nullptr;
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* xr = x.f32() + m * x.strides[0];
      float* yr = y.f32() + m * y.strides[0];
      float mu, r;
      row_stats(xr, D, eps, mu, r);
      for (int64_t i = 0; i < D; ++i) yr[i] = (xr[i] - mu) * r * wp[i] + (bp ? bp[i] : 0.0f);
    }
  });
}

// Pass 1 (rows across threads): mean_m, r_m and dx. Pass 2 (column blocks across threads): dw and db.
void layernorm_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                        const core::TensorView& db, const core::TensorView& dy, const core::TensorView& x,
                        const core::TensorView& w, float eps) {
  check_layernorm_backward("layernorm_backward", dx, dw, db, dy, x, w);
  const int64_t M = x.size(0), D = x.size(1);
  const float* wp = w.f32();
  std::vector<float> mus(M), rs(M);
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* xr = x.f32() + m * x.strides[0];
      const float* g = dy.f32() + m * dy.strides[0];
      float mu, r;
      row_stats(xr, D, eps, mu, r);
      mus[m] = mu;
      rs[m] = r;
      if (!dx.data) continue;
      double g_sum = 0, gx_sum = 0;
      for (int64_t i = 0; i < D; ++i) {
        const float gw = g[i] * wp[i];
        g_sum += gw;
        gx_sum += gw * ((xr[i] - mu) * r);
      }
      const float g_mean = (float)(g_sum / (double)D), gx_mean = (float)(gx_sum / (double)D);
      float* o = dx.f32() + m * dx.strides[0];
      for (int64_t i = 0; i < D; ++i) o[i] += r * (g[i] * wp[i] - g_mean - ((xr[i] - mu) * r) * gx_mean);
    }
  });
  if (!dw.data && !db.data) return;
  constexpr int64_t kCols = 256;
  pool.run_tasks((D + kCols - 1) / kCols, [&](int64_t blk) {
    const int64_t i0 = blk * kCols, i1 = std::min(D, i0 + kCols);
    float acc_w[kCols] = {}, acc_b[kCols] = {};
    for (int64_t m = 0; m < M; ++m) {
      const float* xr = x.f32() + m * x.strides[0];
      const float* g = dy.f32() + m * dy.strides[0];
      for (int64_t i = i0; i < i1; ++i) {
        acc_w[i - i0] += g[i] * ((xr[i] - mus[m]) * rs[m]);
        acc_b[i - i0] += g[i];
      }
    }
    for (int64_t i = i0; i < i1; ++i) {
      if (dw.data) dw.f32()[i] += acc_w[i - i0];
      if (db.data) db.f32()[i] += acc_b[i - i0];
    }
  });
}

}  // namespace llamba::ops::cpu
