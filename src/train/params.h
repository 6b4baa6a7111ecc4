// The trainable parameters of a model: one list built from the model's own tensor list (for_each_tensor), walked
// by gradient allocation, clipping, the optimizer and checkpointing alike. Values live in writable memory owned
// elsewhere (a GGUF image in an owned buffer); gradients are owned here, f32, same shapes.
// Thread safety: not thread-safe; one trainer owns it.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"
#include "models/model.h"

namespace llamba::train {

struct Parameter {
  std::string name;
  core::TensorView value;  // f32, writable
  core::Tensor grad;       // f32, same shape
  bool decay = true;       // AdamW weight decay applies
  bool trainable = true;   // false: frozen for this run (no update, no decay, outside the clipping norm)
};

// Default decay policy: matrices (projections, embeddings, head) decay; norms, biases, conv weights and
// decay/skip parameters (1-D tensors, conv kernels and any tensor named *norm*) do not.
bool default_decay(const std::string& name, const core::Shape& shape);

class ParameterSet {
 public:
  // Every tensor of `model` must be f32 and writable (checked).
  explicit ParameterSet(const models::Model& model);

  std::vector<Parameter>& params() { return params_; }
  const std::vector<Parameter>& params() const { return params_; }
  // Gradient tensor by name, as backward passes want it; throws on an unknown name.
  core::Tensor& grad(const std::string& name);
  // The name -> gradient map handed to Model::backward.
  models::GradientMap& grads() { return grad_map_; }
  int64_t numel() const;
  int64_t numel_trainable() const;
  // Freezes every parameter for which `trains(name)` is false (a training stage's parameter set); the rest train.
  void set_trainable(const std::function<bool(const std::string&)>& trains);

  void zero_grad();
  // sqrt(Σ grad²) over the trainable parameters (accumulated in double); scaling and clipping act on them.
  double grad_norm() const;
  void scale_grads(double s);
  // torch.nn.utils.clip_grad_norm_: if the norm exceeds max_norm, scale by max_norm / (norm + 1e-6).
  // Returns the norm before clipping.
  double clip_grad_norm(double max_norm);

 private:
  std::vector<Parameter> params_;
  models::GradientMap grad_map_;
};

}  // namespace llamba::train
