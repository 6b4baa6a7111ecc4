// Placeholder: step-by-step real scalar-gated recurrence (replaced by branch `recurrence`).
#include "ops/gated_recurrence.h"

#include <cmath>
#include <vector>

namespace llamba::ops {

void gated_recurrence_forward(core::ThreadPool& pool, const GatedRecurrenceArgs& a, RecurrenceMode) {
  const int64_t B = a.v.size(0), T = a.v.size(1), H = a.v.size(2), P = a.v.size(3), G = a.q.size(2),
                N = a.q.size(3);
  pool.run_tasks(B * H, [&](int64_t task) {
    const int64_t b = task / H, h = task % H, g = h / (H / G);
    std::vector<float> S(P * N, 0.0f);
    if (a.state_in.data)
      for (int64_t i = 0; i < P * N; ++i) S[i] = a.state_in.f32()[(b * H + h) * P * N + i];
    for (int64_t t = 0; t < T; ++t) {
      const float al = std::exp(a.log_decay.f32()[(b * T + t) * H + h]);
      const float* q = a.q.f32() + ((b * T + t) * G + g) * N;
      const float* k = a.k.f32() + ((b * T + t) * G + g) * N;
      const float* v = a.v.f32() + ((b * T + t) * H + h) * P;
      float* y = a.y.f32() + ((b * T + t) * H + h) * P;
      for (int64_t p = 0; p < P; ++p) {
        float acc = 0;
        for (int64_t n = 0; n < N; ++n) {
          S[p * N + n] = al * S[p * N + n] + v[p] * k[n];
          acc += S[p * N + n] * q[n];
        }
        y[p] = acc * (float)a.scale;
      }
    }
    if (a.state_out.data)
      for (int64_t i = 0; i < P * N; ++i) a.state_out.f32()[(b * H + h) * P * N + i] = S[i];
  });
}

}  // namespace llamba::ops
