// mixer_matrix on the CPU: fp32; forward in (head, row block) tasks, backward in head tasks into per-head
// scratch that is then summed over each group's heads in a fixed order (deterministic for any thread count).
// Backward convention: every gradient output is accumulated into (+=), each element added once.
#include "ops/mixer_matrix.h"

#include <algorithm>
#include <vector>

#include "ops/mixer_matrix_impl.h"

namespace llamba::ops::cpu {

void mixer_matrix_forward(core::ThreadPool& pool, const core::TensorView& m, const core::TensorView& q,
                          const core::TensorView& k, const core::TensorView& log_decay, const core::TensorView& d,
                          float scale) {
  detail::check_mixer_matrix(m, q, k, log_decay, d);
  const int64_t T = q.size(0), G = q.size(1), N = q.size(2), H = log_decay.size(1);
  constexpr int64_t kRows = 32;
  const int64_t blocks = (T + kRows - 1) / kRows;
  pool.run_tasks(H * blocks, [&](int64_t task) {
    const int64_t h = task / blocks, t0 = task % blocks * kRows;
    detail::mixer_matrix_rows<float>(m.f32(), q.f32(), k.f32(), log_decay.f32(), d.data ? d.f32() : nullptr, T, G, N,
                                     H, h, t0, std::min(T, t0 + kRows), scale);
  });
}

void mixer_matrix_backward(core::ThreadPool& pool, const core::TensorView& dq, const core::TensorView& dk,
                           const core::TensorView& dlog_decay, const core::TensorView& dd, const core::TensorView& dm,
                           const core::TensorView& q, const core::TensorView& k, const core::TensorView& log_decay,
                           float scale) {
  detail::check_mixer_matrix_backward(dq, dk, dlog_decay, dd, dm, q, k, log_decay);
  const int64_t T = q.size(0), G = q.size(1), N = q.size(2), H = log_decay.size(1), per = H / G;
  std::vector<float> dqh(H * T * N, 0.0f), dkh(H * T * N, 0.0f);
  std::vector<double> dlh(H * T, 0.0), ddh(H, 0.0);
  pool.run_tasks(H, [&](int64_t h) {
    std::vector<float> row(T);
    detail::mixer_matrix_backward_head<float, double, float>(dqh.data() + h * T * N, dkh.data() + h * T * N,
                                                             dlh.data() + h * T, &ddh[h], dm.f32(), q.f32(), k.f32(),
                                                             log_decay.f32(), T, G, N, H, h, scale, row.data());
  });
  pool.parallel_for(T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t g = 0; g < G; ++g)
        for (int64_t n = 0; n < N; ++n) {
          float sq = 0, sk = 0;
          for (int64_t h = g * per; h < (g + 1) * per; ++h) {
            sq += dqh[(h * T + t) * N + n];
            sk += dkh[(h * T + t) * N + n];
          }
          if (dq.data) dq.f32()[(t * G + g) * N + n] += sq;
          if (dk.data) dk.f32()[(t * G + g) * N + n] += sk;
        }
      if (dlog_decay.data)
        for (int64_t h = 0; h < H; ++h) dlog_decay.f32()[t * H + h] += (float)dlh[h * T + t];
    }
  });
  if (dd.data)
    for (int64_t h = 0; h < H; ++h) dd.f32()[h] += (float)ddh[h];
}

}  // namespace llamba::ops::cpu
