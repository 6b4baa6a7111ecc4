// The MOHAWK run's configuration (`llamba distill --config`): the student init, then the stages in order, each
// with its own token budget, optimizer, schedule and batch. Defaults follow the recipe (docs/distillation.md:
// AdamW β (0.9, 0.95), weight decay 0.1, WSD with 10 % warmup and 10 % decay to 1e-8; lr 1e-4 for stages 1-2,
// 5e-5 for stage 3) scaled to the budget: a stage's steps are its tokens / (batch · seq_len · grad_accum).
// Every key is declared once (config.cpp's tables); unknown keys, bad types and bad values throw naming the field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace llamba::distill {

// "mohawk" (gate open, identity conv, D = 1) | "attention" (mixer from W_q/W_k/W_v/W_o) | "random" (nothing copied
// from the teacher but the tokenizer: the from-scratch baseline)
enum class StudentInit { kMohawk, kAttention, kRandom };
StudentInit init_from_name(const std::string& name);  // throws naming "init" on an unknown name
enum class LastTarget { kFinalNormed, kResidual };    // stage 2, last layer: transformers' hidden_states[L] | h_L

struct StageConfig {
  int stage = 1;       // 1 matrix orientation, 2 hidden-state alignment, 3 knowledge distillation
  int64_t tokens = 0;  // input tokens this stage consumes (> 0)
  int64_t batch = 4, seq_len = 256, grad_accum = 1;
  double lr = 1e-4, min_lr = 1e-8, warmup_fraction = 0.1, decay_fraction = 0.1;
  std::string decay_shape = "linear";
  train::AdamWConfig adamw{0.9, 0.95, 1e-8, 0.1};
  double clip = 1.0;
  int64_t eval_interval = 0, eval_batches = 4;  // held-out next-token loss; 0: at the stage's end only
  // Stage 2.
  bool freeze_mlp = false;
  LastTarget last_target = LastTarget::kFinalNormed;
  // Stage 3.
  double tau = 1.0, lm_weight = 0.0;  // softmax temperature of the student; weight of the ground-truth LM loss

  int64_t steps() const;  // ceil(tokens / (batch · seq_len · grad_accum))
  // The trainer's config for this stage (arch llamba, WSD schedule over steps(), seed = base seed + index).
  train::TrainConfig train_config(uint64_t seed, int64_t index, int64_t checkpoint_interval,
                                  int64_t log_interval) const;
  nlohmann::json to_json() const;
};

struct DistillConfig {
  StudentInit init = StudentInit::kMohawk;
  int64_t d_state = 64, chunk_size = 64;  // student N (attention init needs N = the teacher's head dim)
  uint64_t seed = 1;
  int64_t checkpoint_interval = 50, log_interval = 1;  // in steps of the current stage
  std::vector<StageConfig> stages;

  // Without "stages", a "tokens" total is split over stages 1, 2, 3 like Llamba-1B's 0.3B / 2.7B / 5B.
  static DistillConfig from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

const char* init_name(StudentInit i);

}  // namespace llamba::distill
