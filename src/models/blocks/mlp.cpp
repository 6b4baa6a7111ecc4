// SwiGLU MLP forward.
#include "models/blocks/mlp.h"

#include "ops/linear.h"
#include "ops/swiglu.h"

namespace llamba::models {

void swiglu_mlp_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& u,
                        const MlpWeights& w) {
  const int64_t M = u.size(0), F = w.gate.size(0);
  core::Tensor g = core::Tensor::zeros(core::DType::kF32, {M, F});
  core::Tensor up = core::Tensor::zeros(core::DType::kF32, {M, F});
  ops::linear_forward(pool, g, u, w.gate);
  ops::linear_forward(pool, up, u, w.up);
  ops::swiglu_forward(pool, g, g, up);
  ops::linear_forward(pool, out, g, w.down);
}

}  // namespace llamba::models
