// swiglu: out = silu(gate + gate_bias) ⊙ up — the SwiGLU MLP nonlinearity, and Llamba's output gate
// y ⊙ silu(z + z_bias) (gate = z, up = y). silu(x) = x · sigmoid(x). Forward and backward.
// Backward convention (llm.c): every gradient output is ACCUMULATED into (+=), callers zero them; a gradient
// view with data == nullptr is not needed and its work is skipped. Gradients never alias inputs.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// out, gate, up (M, F); gate_bias (F) optional. out may alias gate or up. Rows may be strided.
inline void swiglu_forward(Context& ctx, const core::TensorView& out, const core::TensorView& gate,
                           const core::TensorView& up, const core::TensorView& gate_bias = {});

// dgate (M, F) += ∂L/∂gate, dup (M, F) += ∂L/∂up, dgate_bias (F) += ∂L/∂gate_bias given dout (M, F) and the
// forward's inputs gate, up (M, F), gate_bias (F) (optional, as in the forward). Rows may be strided. f32.
inline void swiglu_backward(Context& ctx, const core::TensorView& dgate, const core::TensorView& dup,
                            const core::TensorView& dgate_bias, const core::TensorView& dout,
                            const core::TensorView& gate, const core::TensorView& up,
                            const core::TensorView& gate_bias = {});

namespace ref {
void swiglu_forward(const core::TensorView& out, const core::TensorView& gate, const core::TensorView& up,
                    const core::TensorView& gate_bias = {});
// Same contract; f32 or f64 views, double arithmetic.
void swiglu_backward(const core::TensorView& dgate, const core::TensorView& dup, const core::TensorView& dgate_bias,
                     const core::TensorView& dout, const core::TensorView& gate, const core::TensorView& up,
                     const core::TensorView& gate_bias = {});
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), the CUDA kernels (ops/cuda), and the dispatch of the ops above to them.
namespace cpu {
void swiglu_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& gate,
                    const core::TensorView& up, const core::TensorView& gate_bias);
void swiglu_backward(core::ThreadPool& pool, const core::TensorView& dgate, const core::TensorView& dup,
                     const core::TensorView& dgate_bias, const core::TensorView& dout, const core::TensorView& gate,
                     const core::TensorView& up, const core::TensorView& gate_bias);
}  // namespace cpu
namespace cuda {  // ops/cuda/swiglu.cpp (-DLLAMBA_CUDA=ON): forward only
void swiglu_forward(Backend& be, const core::TensorView& out, const core::TensorView& gate, const core::TensorView& up,
                    const core::TensorView& gate_bias);
}  // namespace cuda

inline void swiglu_forward(Context& ctx, const core::TensorView& out, const core::TensorView& gate,
                           const core::TensorView& up, const core::TensorView& gate_bias) {
  return LLAMBA_DISPATCH_CUDA(ctx, swiglu_forward, out, gate, up, gate_bias);
}
inline void swiglu_backward(Context& ctx, const core::TensorView& dgate, const core::TensorView& dup,
                            const core::TensorView& dgate_bias, const core::TensorView& dout,
                            const core::TensorView& gate, const core::TensorView& up,
                            const core::TensorView& gate_bias) {
  return LLAMBA_DISPATCH(ctx, swiglu_backward, dgate, dup, dgate_bias, dout, gate, up, gate_bias);
}

}  // namespace llamba::ops
