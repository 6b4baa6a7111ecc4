// gelu: out = g · Φ(g), g = x + bias — the exact (erf) GELU of torch nn.GELU(approximate='none'), used by the
// GateLoop feed-forward (Linear → GELU → Linear). Backward will live beside the forward in the same files.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// out, x (M, F) with contiguous rows; bias (F) optional. out may alias x.
void gelu_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& x,
                  const core::TensorView& bias = {});

namespace ref {
void gelu_forward(const core::TensorView& out, const core::TensorView& x, const core::TensorView& bias = {});
}

}  // namespace llamba::ops
