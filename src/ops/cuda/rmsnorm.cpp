// rmsnorm on the GPU, host entry: the CPU op's checks, then the kernel (ops/cuda/rmsnorm.cu).
#include "ops/rmsnorm.h"

#include "ops/check_shapes.h"
#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda {

void rmsnorm_forward(Backend& be, const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                     float eps) {
  constexpr const char* op = "rmsnorm_forward";
  check_rows(op, y, x);
  const int64_t M = x.size(0), D = x.size(1);
  LLAMBA_ENSURE(w.rank() == 1 && w.size(0) == D, "[{}] weight {} for width {}", op, w.shape.str(), D);
  require_device(op, {&y, &x, &w});
  require_f32(op, {&y, &x, &w});
  be.make_current();
  launched(op, kernels::rmsnorm_forward(be.stream(), static_cast<float*>(y.data), y.strides[0], f32_or_null(x),
                                        x.strides[0], f32_or_null(w), M, D, eps));
}

}  // namespace llamba::ops::cuda
