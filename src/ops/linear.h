// linear: y = x · Wᵀ + b over rows, with W in any dense or GGUF block type (dequantized row by row, so the
// arithmetic is fp32 on exactly the values a dequantizing reference sees). Forward and backward.
// Backward convention (llm.c): every gradient output is ACCUMULATED into (+=), callers zero them; a gradient
// view with data == nullptr is not needed and its work is skipped. Gradients never alias inputs.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// y (M, N) f32 = x (M, K) f32 · w (N, K)ᵀ + bias (N) f32 (bias.data may be null). Rows of x and y may be
// strided (row stride = strides[0]); inner dims contiguous.
inline void linear_forward(Context& ctx, const core::TensorView& y, const core::TensorView& x,
                           const core::TensorView& w, const core::TensorView& bias = {});

// dx (M, K) += dy · w,  dw (N, K) += dyᵀ · x,  dbias (N) += Σ_rows dy, for dy (M, N). All f32; training weights
// are f32 (w is read only for dx, x only for dw: the one not needed may be empty). Rows of dx, dy, x may be
// strided; dw and dbias are contiguous. Each element is summed in fp32 (SIMD lanes, then across them) and added once.
inline void linear_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dw,
                            const core::TensorView& dbias, const core::TensorView& dy, const core::TensorView& x,
                            const core::TensorView& w);

namespace ref {
// Same contract; x/y are f32 or f64 (matching), accumulation in double.
void linear_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                    const core::TensorView& bias = {});
// Same contract; f32 or f64 views (w of any type, dequantized), double arithmetic.
void linear_backward(const core::TensorView& dx, const core::TensorView& dw, const core::TensorView& dbias,
                     const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), the CUDA kernels (ops/cuda), and the dispatch of the ops above to them.
namespace cpu {
// gemm (forward) and blas (backward: Gemm::kBlas or kReduced): ops/context.h.
void linear_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                    const core::TensorView& w, const core::TensorView& bias, Gemm gemm = Gemm::kExact);
void linear_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                     const core::TensorView& dbias, const core::TensorView& dy, const core::TensorView& x,
                     const core::TensorView& w, bool blas = false);
}  // namespace cpu
// ops/cuda/linear.cpp (-DLLAMBA_CUDA=ON): forward only, f32/f16/bf16/q8_0/q4_0/q4_1 weights, fp32 arithmetic
// (cuBLAS without TF32, or a dequantizing kernel for a few rows); with Gemm::kReduced, more than 8 rows on tensor
// cores (bf16 or TF32 inputs, fp32 sums).
namespace cuda {
void linear_forward(Backend& be, const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                    const core::TensorView& bias, Gemm gemm = Gemm::kExact);
}  // namespace cuda

inline void linear_forward(Context& ctx, const core::TensorView& y, const core::TensorView& x,
                           const core::TensorView& w, const core::TensorView& bias) {
  return LLAMBA_DISPATCH_CUDA(ctx, linear_forward, y, x, w, bias, ctx.gemm());
}
inline void linear_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dw,
                            const core::TensorView& dbias, const core::TensorView& dy, const core::TensorView& x,
                            const core::TensorView& w) {
  return LLAMBA_DISPATCH(ctx, linear_backward, dx, dw, dbias, dy, x, w, ctx.gemm() != Gemm::kExact);
}

}  // namespace llamba::ops
