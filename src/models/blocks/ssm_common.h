// Pieces shared by the SSM-mixer models (Llamba, Mamba-2): the mixer forms and their recurrence modes, the exact
// softplus, column copies out of packed projections and the per-sequence RecurrentState layout.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "models/model.h"
#include "ops/gated_recurrence.h"

namespace llamba::models {

// How an SSM mixer computes the sequence: all forms give the same result (tested per model).
enum class MixerForm { kChunked, kRecurrent, kQuadratic };
ops::RecurrenceMode recurrence_mode(MixerForm f);

// Exact softplus (torch's threshold-20 shortcut differs by < 2.1e-9).
inline float softplus(float a) { return std::max(a, 0.0f) + std::log1p(std::exp(-std::fabs(a))); }

// Copies columns [c0, c0 + n) of every row of src (M, R) into dst (M, n); add_cols is the backward: it adds
// src (M, n) into those columns of dst.
void copy_cols(const core::TensorView& src, int64_t c0, int64_t n, float* dst);
void add_cols(const core::TensorView& dst, int64_t c0, const float* src, int64_t n);

// A fresh state: per layer conv (K-1, Cc) and SSM (H, P, N), zeros.
std::unique_ptr<RecurrentState> new_ssm_state(int64_t n_layers, int64_t conv_rows, int64_t conv_channels,
                                              int64_t n_heads, int64_t head_dim, int64_t d_state);
int64_t ssm_state_bytes(int64_t n_layers, int64_t conv_rows, int64_t conv_channels, int64_t n_heads, int64_t head_dim,
                        int64_t d_state);

// The batch's states as RecurrentStates of `n_layers` layers (an internal check: the runtime hands a model its
// own states).
std::vector<RecurrentState*> as_recurrent(std::span<SequenceState* const> states, int64_t n_layers,
                                          std::string_view model);

}  // namespace llamba::models
