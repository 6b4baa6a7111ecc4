// embedding: out[t] = table[ids[t]] for a table in any dense or block type (dequantized rows); forward and the
// backward scatter-add into the table gradient. Backward convention (llm.c): the gradient is ACCUMULATED into
// (+=), callers zero it.
#pragma once

#include <span>

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// out (T, D) f32 (or f64 in ref); table (V, D); ids must be in [0, V) (checked: throws llamba::Error).
inline void embedding_forward(Context& ctx, const core::TensorView& out, const core::TensorView& table,
                              std::span<const int32_t> ids);

// dtable (V, D) f32 += Σ_t onehot(ids[t]) ⊗ dout[t] for dout (T, D); repeated ids sum their rows (each row's
// contributions in token order, added to dtable once). Rows of dtable and dout may be strided. ids checked as
// in the forward. Work is split over distinct ids, so threads never write the same row.
inline void embedding_backward(Context& ctx, const core::TensorView& dtable, const core::TensorView& dout,
                               std::span<const int32_t> ids);

namespace ref {
void embedding_forward(const core::TensorView& out, const core::TensorView& table, std::span<const int32_t> ids);
// Same contract; f32 or f64 views, double arithmetic.
void embedding_backward(const core::TensorView& dtable, const core::TensorView& dout, std::span<const int32_t> ids);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), the CUDA kernels (ops/cuda), and the dispatch of the ops above to them.
namespace cpu {
void embedding_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& table,
                       std::span<const int32_t> ids);
void embedding_backward(core::ThreadPool& pool, const core::TensorView& dtable, const core::TensorView& dout,
                        std::span<const int32_t> ids);
}  // namespace cpu
namespace cuda {  // ops/cuda/embedding.cpp (-DLLAMBA_CUDA=ON): forward only, for f32/f16/bf16/q8_0/q4_0/q4_1 tables
void embedding_forward(Backend& be, const core::TensorView& out, const core::TensorView& table,
                       std::span<const int32_t> ids);
}  // namespace cuda

inline void embedding_forward(Context& ctx, const core::TensorView& out, const core::TensorView& table,
                              std::span<const int32_t> ids) {
  return LLAMBA_DISPATCH_CUDA(ctx, embedding_forward, out, table, ids);
}
inline void embedding_backward(Context& ctx, const core::TensorView& dtable, const core::TensorView& dout,
                               std::span<const int32_t> ids) {
  return LLAMBA_DISPATCH(ctx, embedding_backward, dtable, dout, ids);
}

}  // namespace llamba::ops
