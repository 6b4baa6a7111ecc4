// The training loop (no math of its own): batches from token shards, an Objective (train/objective.h: next-token
// cross-entropy, optionally only at task-answer positions, or a distillation stage) with its frozen parameters,
// gradient accumulation, global-norm clipping, the LR schedule and AdamW; held-out evaluation, a CSV log, atomic
// checkpoints that resume bit-exactly, and a PNG loss curve. Not thread-safe: one Trainer per run (it uses the
// context it is given).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "models/model.h"
#include "train/checkpoint.h"
#include "train/data/token_shards.h"
#include "train/optim/adamw.h"
#include "train/optim/schedule.h"
#include "train/objective.h"
#include "train/params.h"

namespace llamba::train {

struct TrainConfig {
  std::string arch;               // llamba | gateloop | mamba2
  nlohmann::json model = nlohmann::json::object();  // architecture-specific keys (models/<arch>/init.cpp)
  int64_t steps = 1000, batch = 8, seq_len = 128, grad_accum = 1;
  ScheduleConfig schedule;        // lr, min_lr, warmup_steps, kind, decay_fraction, decay_shape
  AdamWConfig adamw;
  double clip = 1.0;              // global gradient-norm clip; <= 0: off
  uint64_t seed = 1;              // init and data order
  int64_t eval_interval = 100, eval_batches = 8, checkpoint_interval = 0, log_interval = 10;
  int32_t loss_after_token = -1;  // >= 0: loss/accuracy only where the input token is this id (task answers)

  // Parses the JSON config; every error names the field. Unknown keys are rejected.
  static TrainConfig from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

struct StepResult {
  int64_t step = 0;  // steps done after this one
  double loss = 0, lr = 0, grad_norm = 0;
  int64_t tokens = 0;  // input tokens processed
};

struct EvalResult {
  double loss = 0, accuracy = 0;
  int64_t n = 0;  // positions scored
};

class Trainer {
 public:
  // A fresh run (random init from cfg, or `init_model`: an existing GGUF to fine-tune), or a resumed one from a
  // checkpoint written by save() (its config is used; `cfg.steps` may extend it).
  // Objective: next-token cross-entropy (cfg.loss_after_token).
  Trainer(ops::Context& ctx, const TrainConfig& cfg, const ShardSet& data, const std::string& resume = "",
          const std::string& init_model = "");
  // The model in `image` trained on `objective`; resume: `image` is a checkpoint of this run (its progress,
  // optimizer state and config are used; `cfg.steps` may extend it), else training starts at step 0.
  Trainer(ops::Context& ctx, const TrainConfig& cfg, const ShardSet& data, WritableModelFile image,
          std::unique_ptr<Objective> objective, bool resume);

  StepResult step();
  // Held-out next-token cross-entropy and top-1 accuracy (whatever the objective).
  EvalResult evaluate();
  // An atomic checkpoint; `extra` metadata (e.g. a distillation's stage) is stored beside the training keys.
  void save(const std::string& path, const std::vector<std::pair<std::string, io::GgufValue>>& extra = {}) const;
  // The model image with the trained values (the trainer is unusable afterwards): the next stage starts from it.
  WritableModelFile take_image();
  int64_t steps_done() const { return progress_.step; }
  const TrainConfig& config() const { return cfg_; }
  const models::Model& model() const { return *model_; }
  const ParameterSet& params() const { return *params_; }
  const io::GgufFile& image() const { return *image_.file; }

 private:
  ops::Context& ctx_;
  TrainConfig cfg_;
  const ShardSet& data_;
  WritableModelFile image_;
  std::unique_ptr<models::Model> model_;
  std::unique_ptr<Objective> objective_;
  std::unique_ptr<ParameterSet> params_;
  std::unique_ptr<AdamW> opt_;
  std::unique_ptr<TokenLoader> loader_;
  TrainProgress progress_;
};

struct RunOptions {
  std::string out_dir;          // log.csv, checkpoint.gguf, loss.png
  bool progress_bar = true;     // on stderr
  // A run that is one part of a larger one (a distillation stage): its rows start with `tag_column` = `tag`
  // and append to the log (never truncate it), its checkpoints carry `checkpoint_extra`, its plot is `plot_name`.
  std::string tag_column, tag;
  std::vector<std::pair<std::string, io::GgufValue>> checkpoint_extra;
  std::string plot_name = "loss.png", title;  // title: default "<arch> training loss"
  std::string bar_label = "train";
  std::function<void(const StepResult&)> on_step;  // after every step (e.g. to collect per-layer losses)
  int64_t stop_at_step = -1;  // stop (checkpointed) once this many steps are done, before cfg.steps; -1: never
};

// Runs until cfg.steps (or opts.stop_at_step): logs, evaluates, checkpoints (also at the end), plots. Returns the final evaluation.
EvalResult run_training(Trainer& t, const RunOptions& opts);

}  // namespace llamba::train
