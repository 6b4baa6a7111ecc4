// AdamW with decoupled weight decay, arithmetic in the same order as torch.optim.AdamW (single-tensor path) so a
// trajectory can be compared step by step. Moments are f32 like the parameters. Not thread-safe.
#pragma once

#include <vector>

#include "io/gguf.h"
#include "train/params.h"

namespace llamba::train {

struct AdamWConfig {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
};

class AdamW {
 public:
  AdamW(ParameterSet& params, const AdamWConfig& cfg);
  // One update with learning rate `lr` from the gradients in `params`.
  void step(double lr);
  int64_t steps() const { return t_; }
  const AdamWConfig& config() const { return cfg_; }

  // Moments as `opt.m.<name>`, `opt.v.<name>` tensors and `opt.step` in a checkpoint.
  void save(io::GgufWriter& w) const;
  void load(const io::GgufFile& f);

 private:
  ParameterSet& params_;
  AdamWConfig cfg_;
  std::vector<core::Tensor> m_, v_;
  int64_t t_ = 0;
};

}  // namespace llamba::train
