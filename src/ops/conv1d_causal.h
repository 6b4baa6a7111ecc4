// conv1d_causal: depthwise causal convolution over time with bias and optional SiLU, carrying the last K-1
// input rows as state (Mamba-2 / Discrete Mamba-2 conv). Weight tap k multiplies the input at t - (K-1) + k.
// Backward convention (llm.c): every gradient output is ACCUMULATED into (+=), callers zero them; a gradient
// view with data == nullptr is not needed and its work is skipped. Gradients never alias inputs.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

enum class ConvActivation { kIdentity, kSilu };

// y (T, C) = act(bias + Σ_k w[:, k] ⊙ x[t-(K-1)+k]) for x (T, C), w (C, K), bias (C) (data may be null).
// state (K-1, C): the K-1 input rows before x (oldest first; zeros for a fresh sequence); on return it holds
// the last K-1 rows of [state; x]. Rows of x/y may be strided. A batch of B sequences at once: state (B, K-1, C)
// and x, y (B·T, C), sequence b in rows [b·T, (b+1)·T).
inline void conv1d_causal_forward(Context& ctx, const core::TensorView& y, const core::TensorView& x,
                                  const core::TensorView& w, const core::TensorView& bias,
                                  const core::TensorView& state, ConvActivation act);

// Gradients of the forward above given dy (T, C) = ∂L/∂y: dx (T, C), dw (C, K), dbias (C) and dstate_in
// (K-1, C) = ∂L/∂(the state the forward read). Inputs are the forward's: x (T, C), w (C, K), bias (C) (may be
// empty, as in the forward) and state_in (K-1, C) = the state as it was BEFORE the forward, which overwrites it
// (keep a copy; empty = zeros, a fresh sequence). dstate_out (K-1, C), optional: ∂L/∂(the state the forward
// left behind), for backpropagating across chunk boundaries; it flows into dx and dstate_in. Rows of dx, dy, x
// may be strided. f32.
inline void conv1d_causal_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dw,
                                   const core::TensorView& dbias, const core::TensorView& dstate_in,
                                   const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w,
                                   const core::TensorView& bias, const core::TensorView& state_in, ConvActivation act,
                                   const core::TensorView& dstate_out = {});

namespace ref {
void conv1d_causal_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                           const core::TensorView& bias, const core::TensorView& state, ConvActivation act);
// Same contract; f32 or f64 views, double arithmetic.
void conv1d_causal_backward(const core::TensorView& dx, const core::TensorView& dw, const core::TensorView& dbias,
                            const core::TensorView& dstate_in, const core::TensorView& dy, const core::TensorView& x,
                            const core::TensorView& w, const core::TensorView& bias, const core::TensorView& state_in,
                            ConvActivation act, const core::TensorView& dstate_out = {});
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), the CUDA kernels (ops/cuda), and the dispatch of the ops above to them.
namespace cpu {
void conv1d_causal_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                           const core::TensorView& w, const core::TensorView& bias, const core::TensorView& state,
                           ConvActivation act);
void conv1d_causal_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                            const core::TensorView& dbias, const core::TensorView& dstate_in,
                            const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w,
                            const core::TensorView& bias, const core::TensorView& state_in, ConvActivation act,
                            const core::TensorView& dstate_out);
}  // namespace cpu
namespace cuda {  // ops/cuda/conv1d_causal.cpp (-DLLAMBA_CUDA=ON): forward only
void conv1d_causal_forward(Backend& be, const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                           const core::TensorView& bias, const core::TensorView& state, ConvActivation act);
}  // namespace cuda

inline void conv1d_causal_forward(Context& ctx, const core::TensorView& y, const core::TensorView& x,
                                  const core::TensorView& w, const core::TensorView& bias,
                                  const core::TensorView& state, ConvActivation act) {
  return LLAMBA_DISPATCH_CUDA(ctx, conv1d_causal_forward, y, x, w, bias, state, act);
}
inline void conv1d_causal_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dw,
                                   const core::TensorView& dbias, const core::TensorView& dstate_in,
                                   const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w,
                                   const core::TensorView& bias, const core::TensorView& state_in, ConvActivation act,
                                   const core::TensorView& dstate_out) {
  return LLAMBA_DISPATCH(ctx, conv1d_causal_backward, dx, dw, dbias, dstate_in, dy, x, w, bias, state_in, act,
                         dstate_out);
}

}  // namespace llamba::ops
