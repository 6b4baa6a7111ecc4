// swiglu on the GPU, host entry: the CPU op's checks, then the kernel (ops/cuda/swiglu.cu).
#include "ops/swiglu.h"

#include "ops/check_shapes.h"
#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda {

void swiglu_forward(Backend& be, const core::TensorView& out, const core::TensorView& gate, const core::TensorView& up,
                    const core::TensorView& gate_bias) {
  constexpr const char* op = "swiglu_forward";
  check_swiglu(op, out, gate, up, gate_bias);
  require_device(op, {&out, &gate, &up, &gate_bias});
  require_f32(op, {&out, &gate, &up, &gate_bias});
  be.make_current();
  launched(op, kernels::swiglu_forward(be.stream(), static_cast<float*>(out.data), out.strides[0], f32_or_null(gate),
                                       gate.strides[0], f32_or_null(up), up.strides[0], f32_or_null(gate_bias),
                                       out.size(0), out.size(1)));
}

}  // namespace llamba::ops::cuda
