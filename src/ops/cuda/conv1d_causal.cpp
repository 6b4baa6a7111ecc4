// conv1d_causal on the GPU, host entry: the CPU op's checks, then the kernels (ops/cuda/conv1d_causal.cu).
#include "ops/conv1d_causal.h"

#include "ops/check_shapes.h"
#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda {

void conv1d_causal_forward(Backend& be, const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                           const core::TensorView& bias, const core::TensorView& state, ConvActivation act) {
  constexpr const char* op = "conv1d_causal_forward";
  const int64_t B = check_conv1d_causal_forward(op, y, x, w, bias, state);
  LLAMBA_ENSURE(y.data != x.data, "[{}] y must not alias x", op);
  require_device(op, {&y, &x, &w, &bias, &state});
  require_f32(op, {&y, &x, &w, &bias, &state});
  be.make_current();
  launched(op, kernels::conv1d_causal_forward(be.stream(), static_cast<float*>(y.data), y.strides[0], f32_or_null(x),
                                              x.strides[0], f32_or_null(w), f32_or_null(bias),
                                              static_cast<float*>(state.data), B, x.size(0) / B, x.size(1),
                                              w.size(1), act == ConvActivation::kSilu));
}

}  // namespace llamba::ops::cuda
