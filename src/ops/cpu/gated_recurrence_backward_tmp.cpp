// TEMPORARY (branch train only): recurrent backward for real scalar gates, until branch recurrence-bwd lands.
#include <cmath>
#include <vector>

#include "ops/gated_recurrence.h"

namespace llamba::ops {

void gated_recurrence_backward(core::ThreadPool& pool, const GatedRecurrenceArgs& a, const GatedRecurrenceGrads& g,
                               RecurrenceMode) {
  const int64_t B = a.v.size(0), T = a.v.size(1), H = a.v.size(2), P = a.v.size(3), G = a.q.size(2), N = a.q.size(3);
  LLAMBA_CHECK(a.log_decay.rank() == 3 && !a.phase.data, "tmp backward: real scalar gates only");
  // Tasks own a (batch, group): heads of one group accumulate into the same dq/dk rows.
  pool.run_tasks(B * G, [&](int64_t task) {
   for (int64_t h = task % G * (H / G); h < (task % G + 1) * (H / G); ++h) {
    const int64_t b = task / G, gr = h / (H / G);
    std::vector<float> S((T + 1) * P * N, 0.0f);
    if (a.state_in.data)
      for (int64_t i = 0; i < P * N; ++i) S[i] = a.state_in.f32()[(b * H + h) * P * N + i];
    auto at = [&](int64_t t) { return std::exp(std::min(0.0f, a.log_decay.f32()[(b * T + t) * H + h])); };
    for (int64_t t = 0; t < T; ++t) {
      const float al = at(t);
      const float* k = a.k.f32() + ((b * T + t) * G + gr) * N;
      const float* v = a.v.f32() + ((b * T + t) * H + h) * P;
      for (int64_t p = 0; p < P; ++p)
        for (int64_t n = 0; n < N; ++n)
          S[(t + 1) * P * N + p * N + n] = al * S[t * P * N + p * N + n] + v[p] * k[n];
    }
    std::vector<float> dS(P * N, 0.0f);
    if (g.dstate_out.data)
      for (int64_t i = 0; i < P * N; ++i) dS[i] = g.dstate_out.f32()[(b * H + h) * P * N + i];
    const float sc = (float)a.scale;
    for (int64_t t = T - 1; t >= 0; --t) {
      const float al = at(t);
      const float* q = a.q.f32() + ((b * T + t) * G + gr) * N;
      const float* k = a.k.f32() + ((b * T + t) * G + gr) * N;
      const float* v = a.v.f32() + ((b * T + t) * H + h) * P;
      const float* dy = g.dy.f32() + ((b * T + t) * H + h) * P;
      const float* St = S.data() + (t + 1) * P * N;
      const float* Sp = S.data() + t * P * N;
      double da = 0;
      for (int64_t p = 0; p < P; ++p)
        for (int64_t n = 0; n < N; ++n) {
          const int64_t i = p * N + n;
          dS[i] += sc * dy[p] * q[n];
          if (g.dq.data) g.dq.f32()[((b * T + t) * G + gr) * N + n] += sc * St[i] * dy[p];
          if (g.dv.data) g.dv.f32()[((b * T + t) * H + h) * P + p] += dS[i] * k[n];
          if (g.dk.data) g.dk.f32()[((b * T + t) * G + gr) * N + n] += dS[i] * v[p];
          da += (double)dS[i] * Sp[i];
          dS[i] *= al;
        }
      const float ldv = a.log_decay.f32()[(b * T + t) * H + h];
      if (g.dlog_decay.data && ldv < 0 && std::isfinite(ldv))
        g.dlog_decay.f32()[(b * T + t) * H + h] += (float)(al * da);
    }
    if (g.dstate_in.data)
      for (int64_t i = 0; i < P * N; ++i) g.dstate_in.f32()[(b * H + h) * P * N + i] += dS[i];
   }
  });
}

}  // namespace llamba::ops
