// mixer_matrix on the CPU: fp32, (head, row block) tasks across threads.
#include "ops/mixer_matrix.h"
#include "ops/mixer_matrix_impl.h"

namespace llamba::ops {

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

}  // namespace llamba::ops
