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
