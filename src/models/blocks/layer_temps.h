// A layer's temporaries: owned tensors when a training forward keeps them as activations for the backward,
// otherwise views into the context's arena (ops::Scratch), given back when the layer returns, so that inference
// allocates nothing once the arena has grown to the model's needs.
#pragma once

#include "core/tensor.h"
#include "ops/memory.h"

namespace llamba::models {

class LayerTemps {
 public:
  LayerTemps(ops::Context& ctx, bool keep) : scratch_(ctx), keep_(keep) {}

  // An f32 tensor of `shape` for an op to write in full: zero-filled and stored in *kept when keeping (its view
  // returned), else uninitialized arena memory.
  core::TensorView operator()(core::Tensor* kept, const core::Shape& shape) {
    if (!keep_) return scratch_.empty(core::DType::kF32, shape);
    *kept = core::Tensor::zeros(core::DType::kF32, shape);
    return kept->view();
  }
  ops::Scratch& scratch() { return scratch_; }

 private:
  ops::Scratch scratch_;
  bool keep_;
};

}  // namespace llamba::models
