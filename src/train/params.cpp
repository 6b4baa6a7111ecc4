// ParameterSet: gradients, norms, clipping.
#include "train/params.h"

#include <cmath>
#include <cstring>

namespace llamba::train {

bool default_decay(const std::string& name, const core::Shape& shape) {
  // Norm weights are named: Mamba-2's gated norm weight is stored 2-D, (G, d_inner / G).
  return shape.rank() >= 2 && name.find("conv1d") == std::string::npos && name.find("norm") == std::string::npos;
}

ParameterSet::ParameterSet(const models::Model& model) {
  model.for_each_tensor([&](const std::string& name, const core::TensorView& t) {
    LLAMBA_ENSURE(t.dtype == core::DType::kF32, "parameter {} is {}, training needs f32 weights", name,
                  core::dtype_name(t.dtype));
    Parameter p{name, t, core::Tensor::zeros(core::DType::kF32, t.shape), default_decay(name, t.shape)};
    params_.push_back(std::move(p));
  });
  for (auto& p : params_) grad_map_[p.name] = p.grad;
}

core::Tensor& ParameterSet::grad(const std::string& name) {
  auto it = grad_map_.find(name);
  LLAMBA_CHECK(it != grad_map_.end(), "no parameter {}", name);
  return it->second;
}

int64_t ParameterSet::numel() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.value.numel();
  return n;
}

int64_t ParameterSet::numel_trainable() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.trainable ? p.value.numel() : 0;
  return n;
}

void ParameterSet::set_trainable(const std::function<bool(const std::string&)>& trains) {
  for (auto& p : params_) p.trainable = trains(p.name);
}

void ParameterSet::zero_grad() {
  for (auto& p : params_) std::memset(p.grad.view().data, 0, (size_t)p.grad.view().nbytes());
}

double ParameterSet::grad_norm() const {
  double s = 0;
  for (const auto& p : params_) {
    if (!p.trainable) continue;
    const float* g = p.grad.f32();
    for (int64_t i = 0; i < p.grad.numel(); ++i) s += (double)g[i] * g[i];
  }
  return std::sqrt(s);
}

void ParameterSet::scale_grads(double s) {
  for (auto& p : params_) {
    if (!p.trainable) continue;
    float* g = p.grad.f32();
    for (int64_t i = 0; i < p.grad.numel(); ++i) g[i] = (float)(g[i] * s);
  }
}

double ParameterSet::clip_grad_norm(double max_norm) {
  const double norm = grad_norm();
  const double coef = max_norm / (norm + 1e-6);
  if (max_norm > 0 && coef < 1.0) scale_grads(coef);
  return norm;
}

}  // namespace llamba::train
