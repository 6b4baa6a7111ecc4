// What a training step minimizes, pulled out of the Trainer: an Objective turns one micro-batch of token windows
// into a loss and accumulates its parameter gradients. The Trainer owns everything around it (batches,
// accumulation, clipping, schedule, AdamW, checkpoints). Next-token cross-entropy is the default; the MOHAWK
// stages (src/distill) are objectives too. Not thread-safe: one objective per trainer.
#pragma once

#include <span>
#include <string>

#include "models/model.h"

namespace llamba::train {

class Objective {
 public:
  virtual ~Objective() = default;
  // One micro-batch: window (B, T + 1) token ids (inputs window[:, :T], next-token targets window[:, 1:]).
  // Adds scale · ∂loss/∂θ into `grads` and returns the (unscaled) loss.
  virtual double accumulate(ops::Context& ctx, const models::Model& model, std::span<const int32_t> window,
                            int64_t batch, int64_t seq_len, models::GradientMap& grads, float scale) = 0;
  // Which parameters this objective trains; the others are frozen (default: all).
  virtual bool trains(const std::string& /*name*/) const { return true; }
};

// Mean next-token cross-entropy over the scored positions: all of them, or (answer_token >= 0) only those whose
// input token is answer_token (task answers).
class NextTokenObjective final : public Objective {
 public:
  explicit NextTokenObjective(int32_t answer_token = -1) : answer_token_(answer_token) {}
  double accumulate(ops::Context& ctx, const models::Model& model, std::span<const int32_t> window, int64_t batch,
                    int64_t seq_len, models::GradientMap& grads, float scale) override;

 private:
  int32_t answer_token_;
};

// Inputs (B, T) and targets (B, T) from a (B, T + 1) window batch; targets are -1 (unscored) where
// answer_token >= 0 and the input token differs from it.
void split_window(std::span<const int32_t> window, int64_t seq_len, int32_t answer_token, std::vector<int32_t>& in,
                  std::vector<int32_t>& tgt);

}  // namespace llamba::train
