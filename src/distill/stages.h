// The three MOHAWK stages as training objectives (train/objective.h), each on one teacher pass per micro-batch
// (docs/distillation.md gives the losses and their conventions):
//   1 MatrixOrientation  Σ_l mean_{b,h} ‖M_student,l − A_teacher,l‖_F (not squared), the student's materialized
//                        mixer on the teacher's input to layer l; trains the mixer parameters M reads (attn_norm,
//                        ssm_in, ssm_conv1d, ssm_d).
//   2 HiddenAlignment    Σ_l mean_{b,t} ‖block_l(h_l) − target_l‖₂ (not squared), target_l the teacher's h_{l+1}
//                        (the last layer's: transformers' hidden_states[L], the final-normed stream, or the raw
//                        residual); trains every block parameter (MLPs optionally frozen).
//   3 LogitDistillation  mean_tokens −Σ_v softmax(teacher)_v · log_softmax(student / τ)_v (+ lm_weight · the
//                        next-token cross-entropy); trains everything.
// Stages 1 and 2 never backpropagate across layers: each layer's student work runs inside the teacher's forward
// as its taps arrive, so memory holds one layer's activations at a time. Not thread-safe.
#pragma once

#include <vector>

#include "distill/config.h"
#include "train/objective.h"

namespace llamba::distill {

class StageObjective : public train::Objective {
 public:
  explicit StageObjective(const models::Model& teacher) : teacher_(teacher) {}
  // Per-layer losses of the last micro-batch (stages 1-2; empty for stage 3).
  const std::vector<double>& layer_losses() const { return layer_losses_; }

 protected:
  const models::Model& teacher_;
  std::vector<double> layer_losses_;
};

class MatrixOrientation final : public StageObjective {
 public:
  using StageObjective::StageObjective;
  double accumulate(ops::Context& ctx, const models::Model& student, std::span<const int32_t> window, int64_t batch,
                    int64_t seq_len, models::GradientMap& grads, float scale) override;
  bool trains(const std::string& name) const override;
};

class HiddenAlignment final : public StageObjective {
 public:
  HiddenAlignment(const models::Model& teacher, const StageConfig& cfg) : StageObjective(teacher), cfg_(cfg) {}
  double accumulate(ops::Context& ctx, const models::Model& student, std::span<const int32_t> window, int64_t batch,
                    int64_t seq_len, models::GradientMap& grads, float scale) override;
  bool trains(const std::string& name) const override;

 private:
  StageConfig cfg_;
};

class LogitDistillation final : public StageObjective {
 public:
  LogitDistillation(const models::Model& teacher, const StageConfig& cfg) : StageObjective(teacher), cfg_(cfg) {}
  double accumulate(ops::Context& ctx, const models::Model& student, std::span<const int32_t> window, int64_t batch,
                    int64_t seq_len, models::GradientMap& grads, float scale) override;

 private:
  StageConfig cfg_;
};

std::unique_ptr<StageObjective> make_stage_objective(const models::Model& teacher, const StageConfig& cfg);

}  // namespace llamba::distill
