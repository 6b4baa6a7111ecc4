// rope: rotary position embedding applied in place to (T, n_heads, head_dim) rows.
// Two pair conventions: interleaved (dims 2i, 2i+1; Meta / llama.cpp, used with llama.cpp's permuted Q/K rows)
// and half (dims i, i + hd/2; transformers' rotate_half). Frequencies come precomputed (see rope_inv_freq).
// Backward convention (llm.c): the gradient is ACCUMULATED into (+=), callers zero it; dx never aliases dy.
#pragma once

#include <span>
#include <vector>

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

enum class RopeStyle { kInterleaved, kHalf };

// inv_freq[i] = base^(-2i/rot_dim) / factor[i] (factor: llama3 scaling or GGUF rope_freqs; empty = 1),
// computed in fp32 as transformers does.
std::vector<float> rope_inv_freq(int64_t rot_dim, double base, std::span<const float> factors = {});

// x (T, H, hd) rotated in place; the first rot_dim dims of each head are rotated, the rest left alone.
inline void rope_forward(Context& ctx, const core::TensorView& x, std::span<const int64_t> positions,
                         std::span<const float> inv_freq, RopeStyle style);

// dx (T, H, hd) += Rᵀ dy for dy (T, H, hd) = ∂L/∂(rotated x): the inverse rotation (angles in fp32 as in the
// forward); dims past rot_dim pass through. Rows may be strided (head dim contiguous).
inline void rope_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dy,
                          std::span<const int64_t> positions, std::span<const float> inv_freq, RopeStyle style);

namespace ref {
void rope_forward(const core::TensorView& x, std::span<const int64_t> positions, std::span<const float> inv_freq,
                  RopeStyle style);
// Same contract; f32 or f64 views, angles and arithmetic in double.
void rope_backward(const core::TensorView& dx, const core::TensorView& dy, std::span<const int64_t> positions,
                   std::span<const float> inv_freq, RopeStyle style);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), the CUDA kernels (ops/cuda), and the dispatch of the ops above to them.
namespace cpu {
void rope_forward(core::ThreadPool& pool, const core::TensorView& x, std::span<const int64_t> positions,
                  std::span<const float> inv_freq, RopeStyle style);
void rope_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dy,
                   std::span<const int64_t> positions, std::span<const float> inv_freq, RopeStyle style);
}  // namespace cpu
namespace cuda {  // ops/cuda/rope.cpp (-DLLAMBA_CUDA=ON): forward only; positions and inv_freq are host arrays
void rope_forward(Backend& be, const core::TensorView& x, std::span<const int64_t> positions,
                  std::span<const float> inv_freq, RopeStyle style);
}  // namespace cuda

inline void rope_forward(Context& ctx, const core::TensorView& x, std::span<const int64_t> positions,
                         std::span<const float> inv_freq, RopeStyle style) {
  return LLAMBA_DISPATCH_CUDA(ctx, rope_forward, x, positions, inv_freq, style);
}
inline void rope_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dy,
                          std::span<const int64_t> positions, std::span<const float> inv_freq, RopeStyle style) {
  return LLAMBA_DISPATCH(ctx, rope_backward, dx, dy, positions, inv_freq, style);
}

}  // namespace llamba::ops
