// Shared SSM-model helpers.
#include "models/blocks/ssm_common.h"

#include <cstring>

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
  const int64_t batch = y.size(0), H = y.size(2), P = y.size(3), N = in.k.size(3), S = H * P * N;
  // The op takes the batch's states as one (B, H, P, N) tensor; each row keeps its own.
  core::Tensor s_in = core::Tensor::zeros(core::DType::kF32, {batch, H, P, N});
  core::Tensor s_out = core::Tensor::zeros(core::DType::kF32, {batch, H, P, N});
  for (int64_t b = 0; b < batch; ++b) std::memcpy(s_in.f32() + b * S, states[b]->layers[l].ssm.f32(), S * 4);
  ops::GatedRecurrenceArgs args;
  set_inputs(args, in);
  args.y = y;
  args.state_in = s_in;
  args.state_out = s_out;
  args.chunk = chunk;
  ops::gated_recurrence_forward(ctx, args, recurrence_mode(form));
  for (int64_t b = 0; b < batch; ++b) std::memcpy(states[b]->layers[l].ssm.f32(), s_out.f32() + b * S, S * 4);
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

void add_skip(const core::TensorView& y, const core::TensorView& x, const core::TensorView& d) {
  const int64_t H = y.size(2), P = y.size(3), M = y.numel() / (H * P);
  const float* dp = d.f32();
  float* yp = y.f32();
  const float* xp = x.f32();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t p = 0; p < P; ++p) yp[(m * H + h) * P + p] += dp[h] * xp[(m * H + h) * P + p];
}

std::unique_ptr<RecurrentState> RecurrentStateShape::new_state() const {
  auto s = std::make_unique<RecurrentState>();
  const core::Shape ssm{n_heads, head_dim, d_state};
  for (int64_t l = 0; l < n_layers; ++l)
    s->layers.push_back({conv_channels > 0 ? core::Tensor::zeros(core::DType::kF32, {conv_rows, conv_channels})
                                           : core::Tensor(),
                         core::Tensor::zeros(core::DType::kF32, ssm),
                         complex ? core::Tensor::zeros(core::DType::kF32, ssm) : core::Tensor()});
  return s;
}

int64_t RecurrentStateShape::bytes() const {
  return n_layers * (conv_rows * conv_channels + (complex ? 2 : 1) * n_heads * head_dim * d_state) *
         (int64_t)sizeof(float);
}

std::vector<RecurrentState*> as_recurrent(std::span<SequenceState* const> states, int64_t n_layers,
                                          std::string_view model) {
  std::vector<RecurrentState*> rs;
  for (SequenceState* s : states) {
    auto* r = dynamic_cast<RecurrentState*>(s);
    LLAMBA_CHECK(r && (int64_t)r->layers.size() == n_layers, "[{} forward] state is not this model's", model);
    rs.push_back(r);
  }
  return rs;
}

}  // namespace llamba::models
