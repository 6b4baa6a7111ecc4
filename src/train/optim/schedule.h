// Learning-rate schedules: linear warmup then cosine decay to a floor, or warmup-stable-decay (WSD: warmup, a
// constant plateau, then a decay phase over the last `decay_fraction` of training).
#pragma once

#include <cstdint>
#include <string>

namespace llamba::train {

struct ScheduleConfig {
  std::string kind = "cosine";  // "cosine" | "wsd" | "constant"
  double lr = 1e-3, min_lr = 0.0;
  int64_t warmup_steps = 0, total_steps = 1;
  double decay_fraction = 0.2;        // wsd only
  std::string decay_shape = "linear";  // wsd only: "linear" | "cosine" | "sqrt"
};

// Validates the config (throws llamba::Error naming the field).
void check_schedule(const ScheduleConfig& c);
// LR for step `step` (0-based: the first update uses lr_at(0)).
double lr_at(const ScheduleConfig& c, int64_t step);

}  // namespace llamba::train
