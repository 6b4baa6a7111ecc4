// layernorm: y = (x − mean) / sqrt(var + eps) · w + b per row, biased variance (torch nn.LayerNorm). Used by
// GateLoop's optional sub-LN. Backward will live beside the forward in the same files.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// y, x (M, D) with contiguous rows; w, b (D) f32 (b optional). y may alias x.
void layernorm_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                       const core::TensorView& w, const core::TensorView& b, float eps);

namespace ref {
void layernorm_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                       const core::TensorView& b, double eps);
}

}  // namespace llamba::ops
