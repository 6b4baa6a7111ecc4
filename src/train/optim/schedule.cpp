// Schedules.
#include "train/optim/schedule.h"

#include <cmath>

#include "core/check.h"

namespace llamba::train {

void check_schedule(const ScheduleConfig& c) {
  LLAMBA_ENSURE(c.kind == "cosine" || c.kind == "wsd" || c.kind == "constant",
                "schedule \"{}\" is unknown (cosine, wsd, constant)", c.kind);
  LLAMBA_ENSURE(c.lr > 0 && c.min_lr >= 0 && c.min_lr <= c.lr, "lr {} / min_lr {} must satisfy 0 <= min_lr <= lr",
                c.lr, c.min_lr);
  LLAMBA_ENSURE(c.warmup_steps >= 0 && c.total_steps >= 1, "warmup_steps {} / total_steps {}", c.warmup_steps,
                c.total_steps);
  LLAMBA_ENSURE(c.decay_fraction >= 0 && c.decay_fraction <= 1, "decay_fraction {} must be in [0, 1]",
                c.decay_fraction);
  LLAMBA_ENSURE(c.decay_shape == "linear" || c.decay_shape == "cosine" || c.decay_shape == "sqrt",
                "decay_shape \"{}\" is unknown (linear, cosine, sqrt)", c.decay_shape);
}

double lr_at(const ScheduleConfig& c, int64_t step) {
  if (step < c.warmup_steps) return c.lr * (double)(step + 1) / (double)c.warmup_steps;
  if (c.kind == "constant") return c.lr;
  const double span = (double)std::max<int64_t>(1, c.total_steps - c.warmup_steps);
  const double done = std::min(1.0, (double)(step - c.warmup_steps) / span);
  if (c.kind == "cosine") return c.min_lr + 0.5 * (c.lr - c.min_lr) * (1.0 + std::cos(M_PI * done));
  // wsd: stable until the decay phase, then decay over the last decay_fraction of all steps.
  const int64_t decay_steps = (int64_t)std::llround(c.decay_fraction * (double)c.total_steps);
  const int64_t decay_start = c.total_steps - decay_steps;
  if (step < decay_start || decay_steps == 0) return c.lr;
  const double x = std::min(1.0, (double)(step - decay_start) / (double)decay_steps);
  double f = 1.0 - x;
  if (c.decay_shape == "cosine") f = 0.5 * (1.0 + std::cos(M_PI * x));
  if (c.decay_shape == "sqrt") f = 1.0 - std::sqrt(x);
  return c.min_lr + (c.lr - c.min_lr) * f;
}

}  // namespace llamba::train
