// AdamW update; see torch/optim/adamw.py (_single_tensor_adam with decoupled decay) for the operation order.
#include "train/optim/adamw.h"

#include <cmath>
#include <cstring>

namespace llamba::train {

AdamW::AdamW(ParameterSet& params, const AdamWConfig& cfg) : params_(params), cfg_(cfg) {
  for (const auto& p : params_.params()) {
    m_.push_back(core::Tensor::zeros(core::DType::kF32, p.value.shape));
    v_.push_back(core::Tensor::zeros(core::DType::kF32, p.value.shape));
  }
}

void AdamW::step(double lr) {
  ++t_;
  const float b1 = (float)cfg_.beta1, b2 = (float)cfg_.beta2;
  const double bc1 = 1.0 - std::pow(cfg_.beta1, (double)t_), bc2 = 1.0 - std::pow(cfg_.beta2, (double)t_);
  const float step_size = (float)(lr / bc1);
  const float bc2_sqrt = (float)std::sqrt(bc2);
  const float eps = (float)cfg_.eps;
  auto& ps = params_.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    if (!ps[i].trainable) continue;  // torch: a parameter without a gradient is skipped, decay included
    float* p = ps[i].value.f32();
    const float* g = ps[i].grad.f32();
    float* m = m_[i].f32();
    float* v = v_[i].f32();
    const float decay = ps[i].decay ? (float)(1.0 - lr * cfg_.weight_decay) : 1.0f;
    for (int64_t j = 0; j < ps[i].value.numel(); ++j) {
      p[j] *= decay;
      m[j] = m[j] + (1.0f - b1) * (g[j] - m[j]);  // torch lerp_ with weight < 0.5
      v[j] = v[j] * b2 + (1.0f - b2) * (g[j] * g[j]);
      const float denom = std::sqrt(v[j]) / bc2_sqrt + eps;
      p[j] = p[j] + (-step_size) * (m[j] / denom);
    }
  }
}

void AdamW::save(io::GgufWriter& w) const {
  w.set("opt.step", io::GgufValue::i64(t_));
  w.set("opt.beta1", io::GgufValue::f64(cfg_.beta1));
  w.set("opt.beta2", io::GgufValue::f64(cfg_.beta2));
  w.set("opt.eps", io::GgufValue::f64(cfg_.eps));
  w.set("opt.weight_decay", io::GgufValue::f64(cfg_.weight_decay));
  const auto& ps = params_.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    w.add_tensor("opt.m." + ps[i].name, m_[i]);
    w.add_tensor("opt.v." + ps[i].name, v_[i]);
  }
}

void AdamW::load(const io::GgufFile& f) {
  t_ = f.get_int("opt.step");
  const auto& ps = params_.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    for (auto [prefix, dst] : {std::pair{"opt.m.", &m_[i]}, std::pair{"opt.v.", &v_[i]}}) {
      const std::string name = prefix + ps[i].name;
      const core::TensorView src = f.tensor(name);
      LLAMBA_ENSURE(src.dtype == core::DType::kF32 && src.shape == dst->shape(), "{}: {} has shape {}, expected {}",
                    f.path(), name, src.shape.str(), dst->shape().str());
      std::memcpy(dst->view().data, src.data, (size_t)src.nbytes());
    }
  }
}

}  // namespace llamba::train
