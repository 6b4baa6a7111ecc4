// conv1d_causal on the CPU: channels split across threads; each thread walks time for its channel range,
// reading the carried state rows for t < K-1.
#include "ops/conv1d_causal.h"

#include <cmath>
#include <vector>

namespace llamba::ops {

void conv1d_causal_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                           const core::TensorView& w, const core::TensorView& bias, const core::TensorView& state,
                           ConvActivation act) {
  LLAMBA_CHECK(x.rank() == 2 && y.shape == x.shape && w.rank() == 2 && w.size(0) == x.size(1) && x.strides[1] == 1 &&
                   y.strides[1] == 1 && w.is_contiguous(),
               "[conv1d_causal_forward] x {} y {} w {}", x.shape.str(), y.shape.str(), w.shape.str());
  const int64_t T = x.size(0), C = x.size(1), K = w.size(1);
  LLAMBA_CHECK(y.data != x.data, "[conv1d_causal_forward] y must not alias x");
  LLAMBA_CHECK(state.rank() == 2 && state.size(0) == K - 1 && state.size(1) == C && state.is_contiguous(),
               "[conv1d_causal_forward] state {} for K {} C {}", state.shape.str(), K, C);
  LLAMBA_CHECK(!bias.data || bias.numel() == C, "[conv1d_causal_forward] bias {} for {} channels", bias.shape.str(), C);
  const float* wp = w.f32();
  const float* bp = bias.data ? bias.f32() : nullptr;
  float* st = state.f32();
  pool.parallel_for(C, [&](int64_t c0, int64_t c1) {
    const int64_t nc = c1 - c0;
    std::vector<float> acc(nc), last((K - 1) * nc);
    // Input row r of the extended sequence [state; x]: r < K-1 reads the state.
    auto in = [&](int64_t r) -> const float* {
      return r < K - 1 ? st + r * C + c0 : x.f32() + (r - (K - 1)) * x.strides[0] + c0;
    };
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t c = 0; c < nc; ++c) acc[c] = bp ? bp[c0 + c] : 0.0f;
      for (int64_t k = 0; k < K; ++k) {
        const float* xr = in(t + k);
        for (int64_t c = 0; c < nc; ++c) acc[c] += wp[(c0 + c) * K + k] * xr[c];
      }
      float* yr = y.f32() + t * y.strides[0] + c0;
      for (int64_t c = 0; c < nc; ++c)
        yr[c] = act == ConvActivation::kSilu ? acc[c] / (1.0f + std::exp(-acc[c])) : acc[c];
    }
    // New state: the last K-1 rows of [state; x], gathered before the state rows are overwritten.
    for (int64_t r = 0; r < K - 1; ++r) {
      const float* src = in(T + r);
      for (int64_t c = 0; c < nc; ++c) last[r * nc + c] = src[c];
    }
    for (int64_t r = 0; r < K - 1; ++r)
      for (int64_t c = 0; c < nc; ++c) st[r * C + c0 + c] = last[r * nc + c];
  });
}

}  // namespace llamba::ops
