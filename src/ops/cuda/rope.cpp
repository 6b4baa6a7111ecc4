// rope on the GPU, host entry: the CPU op's checks, the positions and frequencies uploaded, then the kernel
// (ops/cuda/rope.cu).
#include "ops/rope.h"

#include "ops/check_shapes.h"
#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda {

void rope_forward(Backend& be, const core::TensorView& x, std::span<const int64_t> positions,
                  std::span<const float> inv_freq, RopeStyle style) {
  constexpr const char* op = "rope_forward";
  check_rope(op, x, {}, positions, inv_freq);
  require_device(op, {&x});
  require_f32(op, {&x});
  const int64_t T = x.size(0), H = x.size(1), half = (int64_t)inv_freq.size();
  LLAMBA_ENSURE(half <= 4096, "[{}] {} frequencies: at most 4096 fit the kernel's shared memory", op, half);
  if (T == 0 || H == 0 || half == 0) return;
  be.make_current();
  const auto dev = be.upload({{positions.data(), positions.size_bytes()}, {inv_freq.data(), inv_freq.size_bytes()}});
  launched(op, kernels::rope_forward(be.stream(), static_cast<float*>(x.data), x.strides[0], x.strides[1], T, H,
                                     static_cast<const int64_t*>(dev[0]), static_cast<const float*>(dev[1]), half,
                                     style == RopeStyle::kInterleaved));
}

}  // namespace llamba::ops::cuda
