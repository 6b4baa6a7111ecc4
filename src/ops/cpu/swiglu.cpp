// swiglu on the CPU: elementwise, rows split across threads.
#include "ops/swiglu.h"

#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops {

void swiglu_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& gate,
                    const core::TensorView& up, const core::TensorView& gate_bias) {
  check_rows("swiglu_forward", out, gate);
  check_rows("swiglu_forward", out, up);
  const int64_t M = out.size(0), F = out.size(1);
  const float* gb = gate_bias.data ? gate_bias.f32() : nullptr;
  LLAMBA_CHECK(!gb || gate_bias.numel() == F, "[swiglu_forward] gate_bias {} for width {}", gate_bias.shape.str(), F);
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

}  // namespace llamba::ops
