// mixer_matrix reference: double arithmetic on f32 or f64 views.
#include "ops/mixer_matrix.h"
#include "ops/mixer_matrix_impl.h"

namespace llamba::ops::ref {

void mixer_matrix_forward(const core::TensorView& m, const core::TensorView& q, const core::TensorView& k,
                          const core::TensorView& log_decay, const core::TensorView& d, double scale) {
  detail::check_mixer_matrix(m, q, k, log_decay, d);
  const int64_t T = q.size(0), G = q.size(1), N = q.size(2), H = log_decay.size(1);
  // Inputs share one dtype (f32 or f64); the output may be either.
  const core::DType in = q.dtype;
  LLAMBA_CHECK(k.dtype == in && log_decay.dtype == in && (!d.data || d.dtype == in), "[ref::mixer_matrix] dtypes");
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

}  // namespace llamba::ops::ref
