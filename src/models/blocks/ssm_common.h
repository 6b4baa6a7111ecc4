// Pieces shared by the SSM-mixer models (Llamba, Mamba-2): the mixer forms and their recurrence modes, the exact
// softplus, column copies out of packed projections, the [x | B | C] split, the recurrence over the carried
// states and the D skip; and by every recurrent model (GateLoop too): the per-sequence RecurrentState layout.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "models/model.h"
#include "ops/conv1d_causal.h"
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

// The conv output xbc (M, Cc) of an SSM mixer is [x | B | C]: x (d_inner columns), then B and C ((Cc − d_inner) / 2
// each), copied out as the recurrence's v (or x), k and q; x may be empty (not wanted). add_xbc_grad is the
// backward: it adds dx, dk, dq into those columns of dxbc.
void split_xbc(const core::TensorView& xbc, int64_t d_inner, const core::TensorView& x, const core::TensorView& k,
               const core::TensorView& q);
void add_xbc_grad(const core::TensorView& dxbc, int64_t d_inner, const core::TensorView& dx,
                  const core::TensorView& dk, const core::TensorView& dq);

// The inputs of an SSM mixer's recurrence: q = C and k = B (B, T, G, N), values v (B, T, H, P), one log-decay per
// head (B, T, H). The same struct names their gradients.
struct SsmScan {
  core::TensorView q, k, v, log_decay;
};

// The batch's tensors `member` of layer l as one (B, ...) view when they are consecutive slices of one pool in
// batch order (RecurrentStateShape::new_states), so that a batched op can update them in place; else an empty view.
core::TensorView pooled_rows(std::span<RecurrentState* const> states, int64_t l,
                             core::Tensor RecurrentState::Layer::* member);

// y (B·T, C) = the causal conv of x (B·T, C) continuing from each row's conv window of layer l, which it then
// updates: one batched call over pooled states, else one call per row.
void conv_forward_rows(ops::Context& ctx, const core::TensorView& y, const core::TensorView& x,
                       const core::TensorView& w, const core::TensorView& bias, std::span<RecurrentState* const> states,
                       int64_t l, ops::ConvActivation act);

// y (B, T, H, P) = the recurrence continuing from each row's SSM state of layer l, which it then updates.
void ssm_scan_forward(ops::Context& ctx, const SsmScan& in, const core::TensorView& y,
                      std::span<RecurrentState* const> states, int64_t l, MixerForm form, int64_t chunk);
// Its chunked backward from the zero state a training forward starts in: from dy (B, T, H, P), every gradient in
// `grads` is accumulated (+=).
void ssm_scan_backward(ops::Context& ctx, const SsmScan& in, const core::TensorView& dy, int64_t chunk,
                       const SsmScan& grads);

// y += D·x per head, the skip around the recurrence: y, x (B, T, H, P) (x may be a strided view of the conv
// output), d (H).
void add_skip(ops::Context& ctx, const core::TensorView& y, const core::TensorView& x, const core::TensorView& d);

// Columns [c0, c0 + heads·width) of the rows of m (B·T, C) as a (B, T, heads, width) view (no copy): the
// recurrence's inputs straight out of a packed projection or conv output.
core::TensorView column_heads(const core::TensorView& m, int64_t c0, int64_t batch, int64_t heads, int64_t width);

// The layout of one sequence's RecurrentState: per layer conv (conv_rows, conv_channels) (K-1 rows; none when
// conv_channels is 0, as in GateLoop), SSM (n_heads, head_dim, d_state), and its imaginary part when `complex`.
struct RecurrentStateShape {
  int64_t n_layers = 0, conv_rows = 0, conv_channels = 0, n_heads = 0, head_dim = 0, d_state = 0;
  bool complex = false;
  std::unique_ptr<RecurrentState> new_state() const;  // zeros
  std::unique_ptr<RecurrentState> new_state(ops::Context& ctx) const;  // zeros on ctx's device
  // n zero states on ctx's device whose tensors of each layer are consecutive slices of one pool (pooled_rows).
  std::vector<std::unique_ptr<RecurrentState>> new_states(ops::Context& ctx, int64_t n) const;
  int64_t bytes() const;
};

// The batch's states as RecurrentStates: held inline up to kInline rows, so a forward of a usual batch allocates
// nothing for them.
class RecurrentStates {
 public:
  static constexpr size_t kInline = 64;
  explicit RecurrentStates(size_t n) : n_(n) {
    if (n > kInline) heap_.resize(n);
  }
  RecurrentState*& operator[](size_t i) { return data()[i]; }
  operator std::span<RecurrentState* const>() const { return {data(), n_}; }
  RecurrentState* const* begin() const { return data(); }
  RecurrentState* const* end() const { return data() + n_; }

 private:
  RecurrentState** data() { return n_ > kInline ? heap_.data() : inline_.data(); }
  RecurrentState* const* data() const { return n_ > kInline ? heap_.data() : inline_.data(); }
  size_t n_;
  std::array<RecurrentState*, kInline> inline_{};
  std::vector<RecurrentState*> heap_;
};

// The batch's states as RecurrentStates of `n_layers` layers (an internal check: the runtime hands a model its
// own states).
RecurrentStates as_recurrent(std::span<SequenceState* const> states, int64_t n_layers, std::string_view model);

}  // namespace llamba::models
