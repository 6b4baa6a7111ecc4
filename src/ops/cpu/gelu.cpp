// gelu on the CPU, forward and backward: elementwise in fp32 (erff, expf), rows split across threads; the bias
// gradient is summed over rows per column block in a fixed order (independent of the thread count).
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/gelu.h"

#include <algorithm>
#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {

namespace {
// gelu'(g) = Φ(g) + g · φ(g). For large |g| both terms are finite: Φ saturates to 0 or 1, g·φ(g) underflows to 0.
inline float dgelu(float g) {
  const float cdf = 0.5f * (1.0f + std::erf(g * 0.70710678118654752f));
  return cdf + g * (0.39894228040143268f * std::exp(-0.5f * g * g));
}
}  // namespace

void gelu_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& x,
                  const core::TensorView& bias) {
  check_gelu("gelu_forward", out, x, bias);
  const int64_t M = out.size(0), F = out.size(1);
  const float* b = bias.data ? bias.f32() : nullptr;
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

void gelu_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dbias,
                   const core::TensorView& dout, const core::TensorView& x, const core::TensorView& bias) {
  check_gelu_backward("gelu_backward", dx, dbias, dout, x, bias);
  const int64_t M = dout.size(0), F = dout.size(1);
  const float* b = bias.data ? bias.f32() : nullptr;
  auto row = [](const core::TensorView& v, int64_t m) { return v.f32() + m * v.strides[0]; };
  if (dx.data)
    pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) {
        const float *xr = row(x, m), *d = row(dout, m);
        float* o = row(dx, m);
        for (int64_t i = 0; i < F; ++i) o[i] += d[i] * dgelu(b ? xr[i] + b[i] : xr[i]);
      }
    });
  if (!dbias.data) return;
  constexpr int64_t kCols = 256;
  pool.run_tasks((F + kCols - 1) / kCols, [&](int64_t blk) {
    const int64_t i0 = blk * kCols, i1 = std::min(F, i0 + kCols);
    float acc[kCols] = {};
    for (int64_t m = 0; m < M; ++m) {
      const float *xr = row(x, m), *d = row(dout, m);
      for (int64_t i = i0; i < i1; ++i) acc[i - i0] += d[i] * dgelu(b ? xr[i] + b[i] : xr[i]);
    }
    for (int64_t i = i0; i < i1; ++i) dbias.f32()[i] += acc[i - i0];
  });
}

}  // namespace llamba::ops::cpu
