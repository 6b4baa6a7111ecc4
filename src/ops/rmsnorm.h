// rmsnorm: y = x · rsqrt(mean(x²) + eps) · w per row (transformers LlamaRMSNorm, fp32).
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// y (M, D) = rmsnorm(x (M, D)) · w (D); y may alias x.
void rmsnorm_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                     const core::TensorView& w, float eps);

namespace ref {
void rmsnorm_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w, double eps);
}

}  // namespace llamba::ops
