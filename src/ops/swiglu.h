// swiglu: out = silu(gate + gate_bias) ⊙ up — the SwiGLU MLP nonlinearity, and Llamba's output gate
// y ⊙ silu(z + z_bias). silu(x) = x · sigmoid(x).
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// out, gate, up (M, F); gate_bias (F) optional. out may alias gate or up. Rows may be strided.
void swiglu_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& gate,
                    const core::TensorView& up, const core::TensorView& gate_bias = {});

namespace ref {
void swiglu_forward(const core::TensorView& out, const core::TensorView& gate, const core::TensorView& up,
                    const core::TensorView& gate_bias = {});
}

}  // namespace llamba::ops
