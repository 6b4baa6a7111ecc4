// linear: y = x · Wᵀ + b over rows, with W in any dense or GGUF block type (dequantized row by row, so the
// arithmetic is fp32 on exactly the values a dequantizing reference sees).
// Backward (for students) will live beside the forward in the same files.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// y (M, N) f32 = x (M, K) f32 · w (N, K)ᵀ + bias (N) f32 (bias.data may be null). Rows of x and y may be
// strided (row stride = strides[0]); inner dims contiguous.
void linear_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                    const core::TensorView& w, const core::TensorView& bias = {});

namespace ref {
// Same contract; x/y are f32 or f64 (matching), accumulation in double.
void linear_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                    const core::TensorView& bias = {});
}  // namespace ref

}  // namespace llamba::ops
