// swiglu reference in double.
#include "ops/swiglu.h"

#include <cmath>

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void swiglu_forward(const core::TensorView& out, const core::TensorView& gate, const core::TensorView& up,
                    const core::TensorView& gate_bias) {
  check_rows("ref::swiglu_forward", out, gate);
  check_rows("ref::swiglu_forward", out, up);
  const int64_t M = out.size(0), F = out.size(1);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < F; ++i) {
      double g = ld(gate, m * gate.strides[0] + i);
      if (gate_bias.data) g += ld(gate_bias, i);
      st(out, m * out.strides[0] + i, g / (1.0 + std::exp(-g)) * ld(up, m * up.strides[0] + i));
    }
}

}  // namespace llamba::ops::ref
