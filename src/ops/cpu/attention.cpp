// attention on the CPU, forward and backward: (query head, query) pairs split across threads; scores, fp32
// softmax and the weighted sum of values per query, with SIMD dot/axpy over the head dimension. The backward's
// key/value pass splits (KV head, key block) instead, so no two threads write one dk/dv row.
// Backward convention: every gradient output is accumulated into (+=), each element added once.
#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/check_shapes.h"
#include "ops/cpu/dot.h"

namespace llamba::ops::cpu {

void attention_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& q,
                       const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale,
                       const core::TensorView& probs) {
  check_attention("attention_forward", out, q, k, v, n_past, probs);
  const int64_t T = q.size(0), Hq = q.size(1), hd = q.size(2), Hkv = k.size(1);
  const int64_t group = Hq / Hkv;
  pool.run_tasks(Hq * T, [&](int64_t task) {
    const int64_t h = task / T, t = task % T, hk = h / group, S = n_past + t + 1;
    thread_local std::vector<float> sc;
    sc.resize((size_t)S);
    const float* qp = q.f32() + t * q.strides[0] + h * q.strides[1];
    float mx = -INFINITY;
    for (int64_t s = 0; s < S; ++s) {
      sc[s] = cpu::dot(qp, k.f32() + s * k.strides[0] + hk * k.strides[1], hd) * scale;
      mx = std::max(mx, sc[s]);
    }
    float sum = 0;
    for (int64_t s = 0; s < S; ++s) {
      sc[s] = std::exp(sc[s] - mx);
      sum += sc[s];
    }
    const float inv = 1.0f / sum;
    float* op = out.f32() + t * out.strides[0] + h * out.strides[1];
    for (int64_t i = 0; i < hd; ++i) op[i] = 0;
    for (int64_t s = 0; s < S; ++s) {
      sc[s] *= inv;
      cpu::axpy(sc[s], v.f32() + s * v.strides[0] + hk * v.strides[1], op, hd);
    }
    if (probs.data) {
      float* pr = probs.f32() + (h * T + t) * probs.size(2);
      for (int64_t s = 0; s < probs.size(2); ++s) pr[s] = s < S ? sc[s] : 0.0f;
    }
  });
}

void attention_backward(core::ThreadPool& pool, const core::TensorView& dq, const core::TensorView& dk,
                        const core::TensorView& dv, const core::TensorView& dout, const core::TensorView& q,
                        const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale) {
  check_attention_backward("attention_backward", dq, dk, dv, dout, q, k, v, n_past);
  const int64_t T = q.size(0), Hq = q.size(1), hd = q.size(2), Hkv = k.size(1), group = Hq / Hkv;
  auto at = [](const core::TensorView& x, int64_t r, int64_t h) {
    return x.f32() + r * x.strides[0] + h * x.strides[1];
  };
  // Per query row (h, t): softmax max, 1 / normalizer, δ = Σ_s P_s (dout_t · v_s).
  std::vector<float> row_max(Hq * T), row_inv(Hq * T), row_delta(Hq * T);
  pool.run_tasks(Hq * T, [&](int64_t task) {
    const int64_t h = task / T, t = task % T, hk = h / group, S = n_past + t + 1;
    thread_local std::vector<float> p, dp;
    p.resize((size_t)S);
    dp.resize((size_t)S);
    const float* qp = at(q, t, h);
    const float* g = at(dout, t, h);
    float mx = -INFINITY;
    for (int64_t s = 0; s < S; ++s) {
      p[s] = cpu::dot(qp, at(k, s, hk), hd) * scale;
      mx = std::max(mx, p[s]);
    }
    float sum = 0;
    for (int64_t s = 0; s < S; ++s) sum += (p[s] = std::exp(p[s] - mx));
    const float inv = 1.0f / sum;
    float delta = 0;
    for (int64_t s = 0; s < S; ++s) {
      p[s] *= inv;
      dp[s] = cpu::dot(g, at(v, s, hk), hd);
      delta += p[s] * dp[s];
    }
    row_max[task] = mx;
    row_inv[task] = inv;
    row_delta[task] = delta;
    if (!dq.data) return;
    thread_local std::vector<float> acc;
    acc.assign((size_t)hd, 0.0f);
    for (int64_t s = 0; s < S; ++s) cpu::axpy(p[s] * (dp[s] - delta) * scale, at(k, s, hk), acc.data(), hd);
    cpu::axpy(1.0f, acc.data(), at(dq, t, h), hd);
  });
  if (!dk.data && !dv.data) return;
  constexpr int64_t kKeys = 16;
  const int64_t S_seen = n_past + T, blocks = (S_seen + kKeys - 1) / kKeys;
  pool.run_tasks(Hkv * blocks, [&](int64_t task) {
    const int64_t hk = task / blocks, s0 = task % blocks * kKeys, s1 = std::min(S_seen, s0 + kKeys);
    thread_local std::vector<float> gk, gv;
    gk.assign((size_t)(kKeys * hd), 0.0f);
    gv.assign((size_t)(kKeys * hd), 0.0f);
    for (int64_t h = hk * group; h < (hk + 1) * group; ++h)
      for (int64_t t = std::max<int64_t>(0, s0 - n_past); t < T; ++t) {  // queries that see key s0 or later
        const int64_t row = h * T + t;
        const float* qp = at(q, t, h);
        const float* g = at(dout, t, h);
        for (int64_t s = s0; s < std::min(s1, n_past + t + 1); ++s) {
          const float p = std::exp(cpu::dot(qp, at(k, s, hk), hd) * scale - row_max[row]) * row_inv[row];
          const float ds = p * (cpu::dot(g, at(v, s, hk), hd) - row_delta[row]) * scale;
          if (dk.data) cpu::axpy(ds, qp, gk.data() + (s - s0) * hd, hd);
          if (dv.data) cpu::axpy(p, g, gv.data() + (s - s0) * hd, hd);
        }
      }
    for (int64_t s = s0; s < s1; ++s) {
      if (dk.data) cpu::axpy(1.0f, gk.data() + (s - s0) * hd, at(dk, s, hk), hd);
      if (dv.data) cpu::axpy(1.0f, gv.data() + (s - s0) * hd, at(dv, s, hk), hd);
    }
  });
}

}  // namespace llamba::ops::cpu
