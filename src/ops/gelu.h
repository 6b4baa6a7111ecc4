// gelu: out = g · Φ(g), g = x + bias — the exact (erf) GELU of torch nn.GELU(approximate='none'), used by the
// GateLoop feed-forward (Linear → GELU → Linear). Forward and backward.
// Backward convention (llm.c): every gradient output is ACCUMULATED into (+=), callers zero them; a gradient
// view with data == nullptr is not needed and its work is skipped. Gradients never alias inputs.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// out, x (M, F) with contiguous rows; bias (F) optional. out may alias x.
inline void gelu_forward(Context& ctx, const core::TensorView& out, const core::TensorView& x,
                         const core::TensorView& bias = {});

// dx (M, F) += dout · gelu'(g), dbias (F) += Σ_rows dout · gelu'(g), with g = x + bias and
// gelu'(g) = Φ(g) + g · φ(g), given dout (M, F) and the forward's inputs x (M, F), bias (F) (optional, as in the
// forward). Rows may be strided. f32.
inline void gelu_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dbias,
                          const core::TensorView& dout, const core::TensorView& x, const core::TensorView& bias = {});

namespace ref {
void gelu_forward(const core::TensorView& out, const core::TensorView& x, const core::TensorView& bias = {});
// Same contract; f32 or f64 views, double arithmetic.
void gelu_backward(const core::TensorView& dx, const core::TensorView& dbias, const core::TensorView& dout,
                   const core::TensorView& x, const core::TensorView& bias = {});
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
void gelu_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& x,
                  const core::TensorView& bias);
void gelu_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dbias,
                   const core::TensorView& dout, const core::TensorView& x, const core::TensorView& bias);
}  // namespace cpu

inline void gelu_forward(Context& ctx, const core::TensorView& out, const core::TensorView& x,
                         const core::TensorView& bias) {
  return LLAMBA_DISPATCH(ctx, gelu_forward, out, x, bias);
}
inline void gelu_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dbias,
                          const core::TensorView& dout, const core::TensorView& x, const core::TensorView& bias) {
  return LLAMBA_DISPATCH(ctx, gelu_backward, dx, dbias, dout, x, bias);
}

}  // namespace llamba::ops
