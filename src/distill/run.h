// `llamba distill`: the MOHAWK stages in order on one run folder — RUN/log.csv (one row per logged step, first
// column the stage), RUN/loss_stage<N>.png, RUN/checkpoint.gguf (atomic; a runnable Llamba GGUF that also holds
// the optimizer state, the stage position and the run's config, so --resume continues bit-exactly, also across
// stages), RUN/stage<N>.gguf (the student after each stage) and RUN/student.gguf (the final plain inference file).
#pragma once

#include <string>
#include <vector>

#include "distill/config.h"
#include "train/trainer.h"

namespace llamba::distill {

struct DistillOptions {
  std::string teacher;  // Llama GGUF (any weight type; dequantized to f32 once)
  std::string data;     // token shard folder (the teacher's tokenizer)
  std::string out_dir;
  std::string student;  // optional: start from this Llamba GGUF instead of `distill init`
  bool resume = false;  // continue RUN/checkpoint.gguf with the config stored in it
  bool progress_bar = true;
  int64_t max_steps = -1;  // stop after this many optimizer steps in this call (checkpointed); -1: run to the end
};

struct StageReport {
  int stage = 0;
  int64_t steps = 0, tokens = 0;
  double seconds = 0, first_loss = 0, last_loss = 0;
  std::vector<double> layer_losses;  // stages 1-2: per layer, last step
  double gemm_flops = 0;             // FLOPs of the stage's matrix products (ops::cpu::sgemm: the projections)
  double sgemm_rate = 0;             // this machine's sgemm FLOP/s, measured at the stage's start
  double step_gemm_rate = 0;         // the projections' FLOP/s within the median step (no evaluation, no checkpoint)
  train::EvalResult held_out;        // next-token loss of the student at the stage's end
};

struct DistillReport {
  std::vector<StageReport> stages;  // the stages run by this call (the last one partly when max_steps stopped it)
  std::string student_path;         // empty unless every stage has finished
  bool finished = false;
};

DistillReport run_distill(ops::Context& ctx, const DistillConfig& cfg, const DistillOptions& opts);

}  // namespace llamba::distill
