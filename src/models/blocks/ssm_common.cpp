// Shared SSM-model helpers.
#include "models/blocks/ssm_common.h"

#include <cstring>

#include "ops/elementwise.h"
#include "ops/memory.h"

namespace llamba::models {

ops::RecurrenceMode recurrence_mode(MixerForm f) {
  switch (f) {
    case MixerForm::kChunked: return ops::RecurrenceMode::kChunked;
    case MixerForm::kRecurrent: return ops::RecurrenceMode::kRecurrent;
    case MixerForm::kQuadratic: return ops::RecurrenceMode::kQuadratic;
  }
  return ops::RecurrenceMode::kChunked;
}

void copy_cols(const core::TensorView& src, int64_t c0, int64_t n, float* dst) {
  for (int64_t m = 0; m < src.size(0); ++m)
    std::memcpy(dst + m * n, src.f32() + m * src.strides[0] + c0, n * sizeof(float));
}

void add_cols(const core::TensorView& dst, int64_t c0, const float* src, int64_t n) {
  for (int64_t m = 0; m < dst.size(0); ++m) {
    float* d = dst.f32() + m * dst.strides[0] + c0;
    for (int64_t i = 0; i < n; ++i) d[i] += src[m * n + i];
  }
}

void split_xbc(const core::TensorView& xbc, int64_t d_inner, const core::TensorView& x, const core::TensorView& k,
               const core::TensorView& q) {
  const int64_t gn = (xbc.size(1) - d_inner) / 2;
  if (x.data) copy_cols(xbc, 0, d_inner, x.f32());
  copy_cols(xbc, d_inner, gn, k.f32());
  copy_cols(xbc, d_inner + gn, gn, q.f32());
}

void add_xbc_grad(const core::TensorView& dxbc, int64_t d_inner, const core::TensorView& dx,
                  const core::TensorView& dk, const core::TensorView& dq) {
  const int64_t gn = (dxbc.size(1) - d_inner) / 2;
  add_cols(dxbc, 0, dx.f32(), d_inner);
  add_cols(dxbc, d_inner, dk.f32(), gn);
  add_cols(dxbc, d_inner + gn, dq.f32(), gn);
}

namespace {

// The forward's and the backward's op arguments name the recurrence's inputs alike.
template <class OpArgs>
void set_inputs(OpArgs& args, const SsmScan& in) {
  args.q = in.q;
  args.k = in.k;
  args.v = in.v;
  args.log_decay = in.log_decay;
}

}  // namespace

void ssm_scan_forward(ops::Context& ctx, const SsmScan& in, const core::TensorView& y,
                      std::span<RecurrentState* const> states, int64_t l, MixerForm form, int64_t chunk) {
  const int64_t batch = y.size(0), H = y.size(2), P = y.size(3), N = in.k.size(3);
  ops::GatedRecurrenceArgs args;
  set_inputs(args, in);
  args.y = y;
  args.chunk = chunk;
  // The rows' own states, updated in place (the op allows state_in = state_out): one row, or a pool.
  const core::TensorView pooled = batch == 1 ? states[0]->layers[l].ssm.view().reshape({1, H, P, N})
                                             : pooled_rows(states, l, &RecurrentState::Layer::ssm);
  if (pooled.data) {
    args.state_in = args.state_out = pooled;
    ops::gated_recurrence_forward(ctx, args, recurrence_mode(form));
    return;
  }
  // The op takes the batch's states as one (B, H, P, N) tensor; each row keeps its own.
  ops::Scratch scratch(ctx);
  const core::TensorView s = scratch.empty(core::DType::kF32, {batch, H, P, N});
  for (int64_t b = 0; b < batch; ++b) ops::copy(ctx, s.select(0, b), states[b]->layers[l].ssm);
  args.state_in = args.state_out = s;
  ops::gated_recurrence_forward(ctx, args, recurrence_mode(form));
  for (int64_t b = 0; b < batch; ++b) ops::copy(ctx, states[b]->layers[l].ssm, s.select(0, b));
}

namespace {

// (n, s...): a state tensor's shape with a batch dimension in front. No heap: decode steps allocate nothing.
core::Shape with_batch(int64_t n, const core::Shape& s) {
  LLAMBA_CHECK(s.rank() < core::kMaxDims, "[pooled states] state tensor {} has no room for a batch dimension",
               s.str());
  std::array<int64_t, core::kMaxDims> dims{n};
  for (int i = 0; i < s.rank(); ++i) dims[i + 1] = s[i];
  return core::Shape::from(std::span(dims.data(), s.rank() + 1));
}

}  // namespace

core::TensorView pooled_rows(std::span<RecurrentState* const> states, int64_t l,
                             core::Tensor RecurrentState::Layer::* member) {
  const core::Tensor& first = states[0]->layers[l].*member;
  if (!first.buffer() || !first.view().is_contiguous()) return {};
  const int64_t bytes = first.view().nbytes();
  for (size_t b = 1; b < states.size(); ++b) {
    const core::Tensor& t = states[b]->layers[l].*member;
    if (t.buffer() != first.buffer() || t.view().shape != first.view().shape ||
        t.view().data != static_cast<uint8_t*>(first.view().data) + b * bytes)
      return {};
  }
  core::TensorView v = core::TensorView::contiguous(first.view().data, first.view().dtype,
                                                    with_batch((int64_t)states.size(), first.view().shape));
  v.device = first.view().device;
  return v;
}

void conv_forward_rows(ops::Context& ctx, const core::TensorView& y, const core::TensorView& x,
                       const core::TensorView& w, const core::TensorView& bias, std::span<RecurrentState* const> states,
                       int64_t l, ops::ConvActivation act) {
  const int64_t batch = (int64_t)states.size(), T = x.size(0) / batch;
  const core::TensorView pooled = batch == 1 ? core::TensorView{} : pooled_rows(states, l, &RecurrentState::Layer::conv);
  if (pooled.data) {
    ops::conv1d_causal_forward(ctx, y, x, w, bias, pooled, act);
    return;
  }
  for (int64_t b = 0; b < batch; ++b)
    ops::conv1d_causal_forward(ctx, y.slice(0, b * T, (b + 1) * T), x.slice(0, b * T, (b + 1) * T), w, bias,
                               states[b]->layers[l].conv, act);
}

void ssm_scan_backward(ops::Context& ctx, const SsmScan& in, const core::TensorView& dy, int64_t chunk,
                       const SsmScan& grads) {
  ops::GatedRecurrenceBackwardArgs args;
  set_inputs(args, in);
  args.dy = dy;
  args.dq = grads.q;
  args.dk = grads.k;
  args.dv = grads.v;
  args.dlog_decay = grads.log_decay;
  args.chunk = chunk;
  ops::gated_recurrence_backward(ctx, args, ops::RecurrenceMode::kChunked);
}

void add_skip(ops::Context& ctx, const core::TensorView& y, const core::TensorView& x, const core::TensorView& d) {
  const int64_t B = y.size(0), T = y.size(1), HP = y.size(2) * y.size(3);
  LLAMBA_CHECK(x.shape == y.shape && x.strides[2] == y.size(3) && x.strides[3] == 1 && x.strides[0] == T * x.strides[1],
               "[add_skip] x {} is not rows of heads", x.shape.str());
  // (B, T, H, P) as (B·T, H·P) rows: the head columns of a row are contiguous in both.
  core::TensorView xr = x;
  xr.shape = {B * T, HP};
  xr.strides = {x.strides[1], 1};
  ops::skip_add(ctx, y.reshape({B * T, HP}), xr, d);
}

core::TensorView column_heads(const core::TensorView& m, int64_t c0, int64_t batch, int64_t heads, int64_t width) {
  LLAMBA_CHECK(m.rank() == 2 && m.strides[1] == 1 && m.size(0) % batch == 0 && c0 + heads * width <= m.size(1),
               "[column_heads] {} columns from {} of {}", heads * width, c0, m.shape.str());
  const int64_t T = m.size(0) / batch, ld = m.strides[0];
  core::TensorView v = m.slice(1, c0, c0 + heads * width);
  v.shape = {batch, T, heads, width};
  v.strides = {T * ld, ld, width, 1};
  return v;
}

namespace {

// A zero state of `shape`, each tensor made by zeros(shape).
template <class Zeros>
std::unique_ptr<RecurrentState> zero_state(const RecurrentStateShape& sh, Zeros&& zeros) {
  auto s = std::make_unique<RecurrentState>();
  const core::Shape ssm{sh.n_heads, sh.head_dim, sh.d_state};
  for (int64_t l = 0; l < sh.n_layers; ++l)
    s->layers.push_back({sh.conv_channels > 0 ? zeros(core::Shape{sh.conv_rows, sh.conv_channels}) : core::Tensor(),
                         zeros(ssm), sh.complex ? zeros(ssm) : core::Tensor()});
  return s;
}

}  // namespace

std::unique_ptr<RecurrentState> RecurrentStateShape::new_state(ops::Context& ctx) const {
  return zero_state(*this, [&](const core::Shape& s) { return ops::zeros(ctx, core::DType::kF32, s); });
}

std::vector<std::unique_ptr<RecurrentState>> RecurrentStateShape::new_states(ops::Context& ctx, int64_t n) const {
  std::vector<std::unique_ptr<RecurrentState>> out;
  for (int64_t b = 0; b < n; ++b) {
    out.push_back(std::make_unique<RecurrentState>());
    out.back()->layers.resize(n_layers);
  }
  // One (n, ...) pool per layer and tensor; state b holds slice b of each.
  const auto pool = [&](int64_t l, const core::Shape& s, core::Tensor RecurrentState::Layer::* member) {
    const core::Tensor p = ops::zeros(ctx, core::DType::kF32, with_batch(n, s));
    for (int64_t b = 0; b < n; ++b) out[b]->layers[l].*member = core::Tensor(p.buffer(), p.view().select(0, b));
  };
  const core::Shape ssm{n_heads, head_dim, d_state};
  for (int64_t l = 0; l < n_layers && n > 0; ++l) {
    if (conv_channels > 0) pool(l, {conv_rows, conv_channels}, &RecurrentState::Layer::conv);
    pool(l, ssm, &RecurrentState::Layer::ssm);
    if (complex) pool(l, ssm, &RecurrentState::Layer::ssm_im);
  }
  return out;
}

std::unique_ptr<RecurrentState> RecurrentStateShape::new_state() const {
  return zero_state(*this, [](const core::Shape& s) { return core::Tensor::zeros(core::DType::kF32, s); });
}

int64_t RecurrentStateShape::bytes() const {
  return n_layers * (conv_rows * conv_channels + (complex ? 2 : 1) * n_heads * head_dim * d_state) *
         (int64_t)sizeof(float);
}

RecurrentStates as_recurrent(std::span<SequenceState* const> states, int64_t n_layers, std::string_view model) {
  RecurrentStates rs(states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    auto* r = dynamic_cast<RecurrentState*>(states[i]);
    LLAMBA_CHECK(r && (int64_t)r->layers.size() == n_layers, "[{} forward] state is not this model's", model);
    rs[i] = r;
  }
  return rs;
}

}  // namespace llamba::models
