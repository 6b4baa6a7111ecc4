// rmsnorm: y = x · rsqrt(mean(x²) + eps) · w per row (transformers LlamaRMSNorm, fp32), forward and backward.
// Backward convention (llm.c): every gradient output is ACCUMULATED into (+=), callers zero them; a gradient
// view with data == nullptr is not needed and its work is skipped. Gradients never alias inputs.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// y (M, D) = rmsnorm(x (M, D)) · w (D); y may alias x.
inline void rmsnorm_forward(Context& ctx, const core::TensorView& y, const core::TensorView& x,
                            const core::TensorView& w, float eps);

// dx (M, D) += ∂L/∂x, dw (D) += ∂L/∂w given dy (M, D) = ∂L/∂y and the forward's inputs x (M, D), w (D).
// Rows of dx, dy, x may be strided. f32.
inline void rmsnorm_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dw,
                             const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w,
                             float eps);

namespace ref {
void rmsnorm_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w, double eps);
// Same contract; f32 or f64 views, double arithmetic.
void rmsnorm_backward(const core::TensorView& dx, const core::TensorView& dw, const core::TensorView& dy,
                      const core::TensorView& x, const core::TensorView& w, double eps);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), the CUDA kernels (ops/cuda), and the dispatch of the ops above to them.
namespace cpu {
void rmsnorm_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                     const core::TensorView& w, float eps);
void rmsnorm_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                      const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w, float eps);
}  // namespace cpu
namespace cuda {  // ops/cuda/rmsnorm.cpp (-DLLAMBA_CUDA=ON): forward only
void rmsnorm_forward(Backend& be, const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                     float eps);
}  // namespace cuda

inline void rmsnorm_forward(Context& ctx, const core::TensorView& y, const core::TensorView& x,
                            const core::TensorView& w, float eps) {
  return LLAMBA_DISPATCH_CUDA(ctx, rmsnorm_forward, y, x, w, eps);
}
inline void rmsnorm_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dw,
                             const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w,
                             float eps) {
  return LLAMBA_DISPATCH(ctx, rmsnorm_backward, dx, dw, dy, x, w, eps);
}

}  // namespace llamba::ops
