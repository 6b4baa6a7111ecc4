// gated_recurrence: placeholder interface while the full op (all modes, all gate kinds) is built on branch
// `recurrence`; this version runs the real-scalar-gate recurrence step by step for every mode.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

enum class RecurrenceMode { kRecurrent, kScan, kQuadratic, kChunked };

struct GatedRecurrenceArgs {
  core::TensorView q;          // (B, T, G, N)
  core::TensorView k;          // (B, T, G, N)
  core::TensorView v;          // (B, T, H, P)
  core::TensorView log_decay;  // (B, T, H)
  core::TensorView phase;      // unused here
  core::TensorView y;          // (B, T, H, P)
  core::TensorView state_in;   // (B, H, P, N) optional
  core::TensorView state_out;  // (B, H, P, N) optional
  double scale = 1.0;
  int64_t chunk = 64;
};

void gated_recurrence_forward(core::ThreadPool& pool, const GatedRecurrenceArgs& a, RecurrenceMode mode);

}  // namespace llamba::ops
