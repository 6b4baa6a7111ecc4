// conv1d_causal reference in double over the extended sequence [state; x].
#include "ops/conv1d_causal.h"

#include <cmath>
#include <vector>

#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void conv1d_causal_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                           const core::TensorView& bias, const core::TensorView& state, ConvActivation act) {
  const int64_t T = x.size(0), C = x.size(1), K = w.size(1);
  LLAMBA_CHECK(state.size(0) == K - 1 && state.size(1) == C && y.data != x.data, "[ref::conv1d_causal_forward] bad args");
  std::vector<double> ext((T + K - 1) * C);
  for (int64_t r = 0; r < K - 1; ++r)
    for (int64_t c = 0; c < C; ++c) ext[r * C + c] = ld(state, r * C + c);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) ext[(t + K - 1) * C + c] = ld(x, t * x.strides[0] + c);
  const std::vector<double> wd = [&] {
    std::vector<double> o(C * K);
    for (int64_t i = 0; i < C * K; ++i) o[i] = ld(w, i);
    return o;
  }();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) {
      double s = bias.data ? ld(bias, c) : 0.0;
      for (int64_t k = 0; k < K; ++k) s += wd[c * K + k] * ext[(t + k) * C + c];
      st(y, t * y.strides[0] + c, act == ConvActivation::kSilu ? s / (1.0 + std::exp(-s)) : s);
    }
  for (int64_t r = 0; r < K - 1; ++r)
    for (int64_t c = 0; c < C; ++c) st(state, r * C + c, ext[(T + r) * C + c]);
}

}  // namespace llamba::ops::ref
