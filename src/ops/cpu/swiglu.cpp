// swiglu on the CPU, forward and backward: elementwise, rows split across threads; the gate-bias gradient is
// summed over rows per column block, in a fixed order (independent of the thread count).
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/swiglu.h"

#include <algorithm>
#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {

void swiglu_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& gate,
                    const core::TensorView& up, const core::TensorView& gate_bias) {
  check_swiglu("swiglu_forward", out, gate, up, gate_bias);
  const int64_t M = out.size(0), F = out.size(1);
  const float* gb = gate_bias.data ? gate_bias.f32() : nullptr;
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* g = gate.f32() + m * gate.strides[0];
      const float* u = up.f32() + m * up.strides[0];
      float* o = out.f32() + m * out.strides[0];
      for (int64_t i = 0; i < F; ++i) {
        const float gi = gb ? g[i] + gb[i] : g[i];
        o[i] = gi / (1.0f + std::exp(-gi)) * u[i];
      }
    }
  });
}

namespace {
// ∂out/∂a · dout · up for a = gate + bias: silu'(a) = s · (1 + a · q) with s = sigmoid(a), q = 1 − s =
// sigmoid(−a). q is formed from exp(−|a|) ≤ 1, not as 1 − s (which cancels for large a, costing |a|·eps), and
// nothing overflows, so the result is finite for any finite a.
inline float dgate_of(float a, float d, float u) {
  const float e = std::exp(-std::fabs(a)), t = 1.0f / (1.0f + e);
  const float s = a >= 0 ? t : e * t, q = a >= 0 ? e * t : t;
  return d * u * (s * (1.0f + a * q));
}
}  // namespace

void swiglu_backward(core::ThreadPool& pool, const core::TensorView& dgate, const core::TensorView& dup,
                     const core::TensorView& dgate_bias, const core::TensorView& dout, const core::TensorView& gate,
                     const core::TensorView& up, const core::TensorView& gate_bias) {
  check_swiglu_backward("swiglu_backward", dgate, dup, dgate_bias, dout, gate, up, gate_bias);
  const int64_t M = dout.size(0), F = dout.size(1);
  const float* gb = gate_bias.data ? gate_bias.f32() : nullptr;
  auto row = [](const core::TensorView& v, int64_t m) { return v.f32() + m * v.strides[0]; };
  if (dgate.data || dup.data)
    pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) {
        const float *g = row(gate, m), *u = row(up, m), *d = row(dout, m);
        float* dg = dgate.data ? row(dgate, m) : nullptr;
        float* du = dup.data ? row(dup, m) : nullptr;
        for (int64_t i = 0; i < F; ++i) {
          const float a = gb ? g[i] + gb[i] : g[i];
          if (dg) dg[i] += dgate_of(a, d[i], u[i]);
          if (du) du[i] += d[i] * (a / (1.0f + std::exp(-a)));
        }
      }
    });
  if (!dgate_bias.data) return;
  constexpr int64_t kCols = 256;
  pool.run_tasks((F + kCols - 1) / kCols, [&](int64_t blk) {
    const int64_t i0 = blk * kCols, i1 = std::min(F, i0 + kCols);
    float acc[kCols] = {};
    for (int64_t m = 0; m < M; ++m) {
      const float *g = row(gate, m), *u = row(up, m), *d = row(dout, m);
      for (int64_t i = i0; i < i1; ++i) acc[i - i0] += dgate_of(gb ? g[i] + gb[i] : g[i], d[i], u[i]);
    }
    for (int64_t i = i0; i < i1; ++i) dgate_bias.f32()[i] += acc[i - i0];
  });
}

}  // namespace llamba::ops::cpu
