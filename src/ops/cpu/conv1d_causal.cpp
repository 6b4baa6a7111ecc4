// conv1d_causal on the CPU, forward and backward: channels split across threads; each thread walks time for its
// channel range, reading the carried state rows for t < K-1. Backward convention: every gradient output is
// accumulated into (+=), each element added once; callers zero them; empty = not needed.
#include "ops/conv1d_causal.h"

#include <cmath>
#include <vector>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {

void conv1d_causal_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                           const core::TensorView& w, const core::TensorView& bias, const core::TensorView& state,
                           ConvActivation act) {
  const int64_t B = check_conv1d_causal_forward("conv1d_causal_forward", y, x, w, bias, state);
  LLAMBA_ENSURE(y.data != x.data, "[conv1d_causal_forward] y must not alias x");
  const int64_t T = x.size(0) / B, C = x.size(1), K = w.size(1);
  const float* wp = w.f32();
  const float* bp = bias.data ? bias.f32() : nullptr;
  pool.parallel_for(C, [&](int64_t c0, int64_t c1) {
    const int64_t nc = c1 - c0;
    thread_local std::vector<float> acc_buf, last_buf;  // reused: a decode step allocates nothing
    if ((int64_t)acc_buf.size() < nc) acc_buf.resize(nc);
    if ((int64_t)last_buf.size() < (K - 1) * nc) last_buf.resize((K - 1) * nc);
    float* acc = acc_buf.data();
    float* last = last_buf.data();
    for (int64_t b = 0; b < B; ++b) {  // sequence b: rows [b·T, (b+1)·T) and its own state
      float* st = state.f32() + b * (K - 1) * C;
      const float* xb = x.f32() + b * T * x.strides[0];
      float* yb = y.f32() + b * T * y.strides[0];
      // Input row r of the extended sequence [state; x]: r < K-1 reads the state.
      auto in = [&](int64_t r) -> const float* {
        return r < K - 1 ? st + r * C + c0 : xb + (r - (K - 1)) * x.strides[0] + c0;
      };
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t c = 0; c < nc; ++c) acc[c] = bp ? bp[c0 + c] : 0.0f;
        for (int64_t k = 0; k < K; ++k) {
          const float* xr = in(t + k);
          for (int64_t c = 0; c < nc; ++c) acc[c] += wp[(c0 + c) * K + k] * xr[c];
        }
        float* yr = yb + t * y.strides[0] + c0;
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
    }
  });
}

// One pass over the extended rows r = 0 .. T+K-2 per channel block: ds[r] (r < T) goes into a ring of the last K
// values, dw and dbias sum in local buffers, and dext[r] = Σ_k w[:, k] ⊙ ds[r - k] (+ dstate_out[r - T]) is
// complete when r is reached, so it is added to dstate_in or dx at once.
void conv1d_causal_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                            const core::TensorView& dbias, const core::TensorView& dstate_in,
                            const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w,
                            const core::TensorView& bias, const core::TensorView& state_in, ConvActivation act,
                            const core::TensorView& dstate_out) {
  check_conv1d_causal_backward("conv1d_causal_backward", dx, dw, dbias, dstate_in, dy, x, w, bias, state_in,
                               dstate_out);
  const int64_t T = x.size(0), C = x.size(1), K = w.size(1);
  const float* wp = w.f32();
  const float* bp = bias.data ? bias.f32() : nullptr;
  const float* sp = state_in.data ? state_in.f32() : nullptr;
  const bool silu = act == ConvActivation::kSilu;
  pool.parallel_for(C, [&](int64_t c0, int64_t c1) {
    const int64_t nc = c1 - c0;
    std::vector<float> zeros(nc, 0.0f), pre(nc), ring(K * nc), dext(nc);
    std::vector<float> dwl(dw.data ? K * nc : 0), dbl(dbias.data ? nc : 0);
    auto in = [&](int64_t r) -> const float* {
      if (r < K - 1) return sp ? sp + r * C + c0 : zeros.data();
      return x.f32() + (r - (K - 1)) * x.strides[0] + c0;
    };
    for (int64_t r = 0; r < T + K - 1; ++r) {
      if (r < T) {
        float* ds = ring.data() + r % K * nc;
        const float* g = dy.f32() + r * dy.strides[0] + c0;
        for (int64_t c = 0; c < nc; ++c) ds[c] = g[c];
        if (silu) {  // recompute the pre-activation s as the forward does
          for (int64_t c = 0; c < nc; ++c) pre[c] = bp ? bp[c0 + c] : 0.0f;
          for (int64_t k = 0; k < K; ++k) {
            const float* e = in(r + k);
            for (int64_t c = 0; c < nc; ++c) pre[c] += wp[(c0 + c) * K + k] * e[c];
          }
          for (int64_t c = 0; c < nc; ++c) {
            // silu'(s) = σ(s)·(1 + s·σ(−s)), with σ(±s) from exp(−|s|) ≤ 1 (no cancellation, no overflow).
            const float s = pre[c], e = std::exp(-std::fabs(s)), q = 1.0f / (1.0f + e);
            const float pos = s >= 0 ? q : e * q, neg = s >= 0 ? e * q : q;
            ds[c] *= pos * (1.0f + s * neg);
          }
        }
        if (dbias.data)
          for (int64_t c = 0; c < nc; ++c) dbl[c] += ds[c];
        if (dw.data)
          for (int64_t k = 0; k < K; ++k) {
            const float* e = in(r + k);
            for (int64_t c = 0; c < nc; ++c) dwl[c * K + k] += ds[c] * e[c];
          }
      }
      if (r < K - 1 ? !dstate_in.data : !dx.data) continue;
      for (int64_t c = 0; c < nc; ++c) dext[c] = 0.0f;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t j = r - k;  // dext[r] collects w[:, k] ⊙ ds[r - k]
        if (j < 0 || j >= T) continue;
        const float* ds = ring.data() + j % K * nc;
        for (int64_t c = 0; c < nc; ++c) dext[c] += wp[(c0 + c) * K + k] * ds[c];
      }
      if (dstate_out.data && r >= T)
        for (int64_t c = 0; c < nc; ++c) dext[c] += dstate_out.f32()[(r - T) * C + c0 + c];
      float* dst = r < K - 1 ? dstate_in.f32() + r * C + c0 : dx.f32() + (r - (K - 1)) * dx.strides[0] + c0;
      for (int64_t c = 0; c < nc; ++c) dst[c] += dext[c];
    }
    if (dw.data)
      for (int64_t c = 0; c < nc; ++c)
        for (int64_t k = 0; k < K; ++k) dw.f32()[(c0 + c) * K + k] += dwl[c * K + k];
    if (dbias.data)
      for (int64_t c = 0; c < nc; ++c) dbias.f32()[c0 + c] += dbl[c];
  });
}

}  // namespace llamba::ops::cpu
