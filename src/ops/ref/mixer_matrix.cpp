// mixer_matrix reference: double arithmetic on f32 or f64 views, forward and backward (the templated loops of
// mixer_matrix_impl.h). Backward convention: every gradient output is accumulated into (+=); callers zero them.
#include "ops/mixer_matrix.h"

#include <algorithm>

#include "ops/mixer_matrix_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void mixer_matrix_forward(const core::TensorView& m, const core::TensorView& q, const core::TensorView& k,
                          const core::TensorView& log_decay, const core::TensorView& d, double scale) {
  detail::check_mixer_matrix(m, q, k, log_decay, d);
  const int64_t T = q.size(0), G = q.size(1), N = q.size(2), H = log_decay.size(1);
  // Inputs share one dtype (f32 or f64); the output may be either.
  const core::DType in = q.dtype;
  LLAMBA_ENSURE(k.dtype == in && log_decay.dtype == in && (!d.data || d.dtype == in), "[ref::mixer_matrix] dtypes");
  auto run = [&](auto* out, const auto* qp, const auto* kp, const auto* lp, const auto* dp) {
    for (int64_t h = 0; h < H; ++h)
      detail::mixer_matrix_rows<double>(out, qp, kp, lp, dp, T, G, N, H, h, 0, T, scale);
  };
  auto with_out = [&](const auto* qp, const auto* kp, const auto* lp, const auto* dp) {
    if (m.dtype == core::DType::kF64) run(m.f64(), qp, kp, lp, dp);
    else run(m.f32(), qp, kp, lp, dp);
  };
  if (in == core::DType::kF64)
    with_out(q.f64(), k.f64(), log_decay.f64(), d.data ? d.f64() : nullptr);
  else
    with_out(q.f32(), k.f32(), log_decay.f32(), d.data ? d.f32() : nullptr);
}

void mixer_matrix_backward(const core::TensorView& dq, const core::TensorView& dk, const core::TensorView& dlog_decay,
                           const core::TensorView& dd, const core::TensorView& dm, const core::TensorView& q,
                           const core::TensorView& k, const core::TensorView& log_decay, double scale) {
  detail::check_mixer_matrix_backward(dq, dk, dlog_decay, dd, dm, q, k, log_decay);
  const int64_t T = q.size(0), G = q.size(1), N = q.size(2), H = log_decay.size(1);
  const std::vector<double> dmd = gather(dm), qd = gather(q), kd = gather(k), ldd = gather(log_decay);
  std::vector<double> dqg(T * G * N), dkg(T * G * N), dld(T * H), ddv(H), dqh(T * N), dkh(T * N), dlh(T), row(T);
  for (int64_t h = 0; h < H; ++h) {
    const int64_t g = h / (H / G);
    std::fill(dqh.begin(), dqh.end(), 0.0);
    std::fill(dkh.begin(), dkh.end(), 0.0);
    std::fill(dlh.begin(), dlh.end(), 0.0);
    detail::mixer_matrix_backward_head<double, double, double>(dqh.data(), dkh.data(), dlh.data(), &ddv[h], dmd.data(),
                                                               qd.data(), kd.data(), ldd.data(), T, G, N, H, h, scale,
                                                               row.data());
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t n = 0; n < N; ++n) {
        dqg[(t * G + g) * N + n] += dqh[t * N + n];
        dkg[(t * G + g) * N + n] += dkh[t * N + n];
      }
      dld[t * H + h] = dlh[t];
    }
  }
  accumulate(dq, dqg);
  accumulate(dk, dkg);
  accumulate(dlog_decay, dld);
  accumulate(dd, ddv);
}

}  // namespace llamba::ops::ref
