// attention on the CPU: (query head, query) pairs split across threads; scores, fp32 softmax and the
// weighted sum of values per query, with SIMD dot/axpy over the head dimension.
#include "ops/attention.h"

#include <cmath>
#include <vector>

#include "ops/cpu/dot.h"

namespace llamba::ops {

void attention_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& q,
                       const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale,
                       const core::TensorView& probs) {
  LLAMBA_CHECK(q.rank() == 3 && k.rank() == 3 && v.rank() == 3 && out.shape == q.shape && k.shape == v.shape,
               "[attention_forward] q {} k {} v {} out {}", q.shape.str(), k.shape.str(), v.shape.str(),
               out.shape.str());
  const int64_t T = q.size(0), Hq = q.size(1), hd = q.size(2), Hkv = k.size(1);
  LLAMBA_CHECK(k.size(2) == hd && Hq % Hkv == 0 && k.size(0) >= n_past + T,
               "[attention_forward] q {} vs cache {} with n_past {}", q.shape.str(), k.shape.str(), n_past);
  LLAMBA_CHECK(q.strides[2] == 1 && k.strides[2] == 1 && v.strides[2] == 1 && out.strides[2] == 1,
               "[attention_forward] head dim must be contiguous");
  LLAMBA_CHECK(!probs.data || (probs.rank() == 3 && probs.size(0) == Hq && probs.size(1) == T &&
                               probs.size(2) >= n_past + T && probs.is_contiguous()),
               "[attention_forward] probs {} for Hq {} T {} S {}", probs.shape.str(), Hq, T, n_past + T);
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

}  // namespace llamba::ops
