// mixer_matrix reference: double arithmetic on f32 or f64 views.
#include "ops/mixer_matrix.h"
#include "ops/mixer_matrix_impl.h"

namespace llamba::ops::ref {

void mixer_matrix_forward(const core::TensorView& m, const core::TensorView& q, const core::TensorView& k,
                          const core::TensorView& log_decay, const core::TensorView& d, double scale) {
  detail::check_mixer_matrix(m, q, k, log_decay, d);
  const int64_t T = q.size(0), G = q.size(1), N = q.size(2), H = log_decay.size(1);
  LLAMBA_CHECK(q.dtype == m.dtype && k.dtype == m.dtype && log_decay.dtype == m.dtype, "[ref::mixer_matrix] dtypes");
  for (int64_t h = 0; h < H; ++h) {
    if (m.dtype == core::DType::kF64)
      detail::mixer_matrix_rows<double>(m.f64(), q.f64(), k.f64(), log_decay.f64(), d.data ? d.f64() : nullptr, T, G,
                                        N, H, h, 0, T, scale);
    else
      detail::mixer_matrix_rows<double>(m.f32(), q.f32(), k.f32(), log_decay.f32(), d.data ? d.f32() : nullptr, T, G,
                                        N, H, h, 0, T, scale);
  }
}

}  // namespace llamba::ops::ref
