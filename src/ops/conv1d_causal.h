// conv1d_causal: depthwise causal convolution over time with bias and optional SiLU, carrying the last K-1
// input rows as state (Mamba-2 / Discrete Mamba-2 conv). Weight tap k multiplies the input at t - (K-1) + k.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

enum class ConvActivation { kIdentity, kSilu };

// y (T, C) = act(bias + Σ_k w[:, k] ⊙ x[t-(K-1)+k]) for x (T, C), w (C, K), bias (C) (data may be null).
// state (K-1, C): the K-1 input rows before x (oldest first; zeros for a fresh sequence); on return it holds
// the last K-1 rows of [state; x]. Rows of x/y may be strided.
void conv1d_causal_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                           const core::TensorView& w, const core::TensorView& bias, const core::TensorView& state,
                           ConvActivation act);

namespace ref {
void conv1d_causal_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                           const core::TensorView& bias, const core::TensorView& state, ConvActivation act);
}

}  // namespace llamba::ops
