// mixer_matrix: cpu vs reference; the matrix times X equals the step-by-step recurrence (fp64); strong decays and
// an exact reset (log_decay = -inf) stay finite.
#include "ops/mixer_matrix.h"

#include <cmath>

#include "op_test_util.h"

namespace llamba {
namespace {

TEST(MixerMatrix, MatchesReferenceAndRecurrence) {
  const int64_t T = 19, G = 2, H = 4, N = 5, P = 3;
  core::Rng rng(8);
  core::Tensor q = test::rand_tensor(rng, {T, G, N}), k = test::rand_tensor(rng, {T, G, N}), d = test::rand_tensor(rng, {H});
  core::Tensor ld = core::Tensor::zeros(core::DType::kF32, {T, H});
  for (int64_t i = 0; i < ld.numel(); ++i) ld.f32()[i] = (float)-rng.uniform(0.0, 3.0);
  ld.f32()[7 * H + 1] = -INFINITY;  // reset for head 1 at t = 7
  core::Tensor m = core::Tensor::zeros(core::DType::kF32, {H, T, T}), mr = core::Tensor::zeros(core::DType::kF64, {H, T, T});
  core::ThreadPool pool(2);
  ops::mixer_matrix_forward(pool, m, q, k, ld, d);
  ops::ref::mixer_matrix_forward(mr, q, k, ld, d);
  for (int64_t i = 0; i < m.numel(); ++i) ASSERT_TRUE(std::isfinite(m.f32()[i]));
  test::expect_close(m.f32(), mr.f64(), m.numel(), N + T, 3.0, "mixer matrix");
  // Recurrence in double: S_t = a_t S_{t-1} + x_t ⊗ k_t, y_t = S_t q_t + d x_t, versus M X.
  const auto x = test::randn64(rng, T * H * P);
  for (int64_t h = 0; h < H; ++h) {
    const int64_t g = h / (H / G);
    std::vector<double> S(P * N, 0.0);
    for (int64_t t = 0; t < T; ++t) {
      const double a = std::exp((double)ld.f32()[t * H + h]);
      for (int64_t p = 0; p < P; ++p) {
        double y = 0, ym = 0;
        for (int64_t n = 0; n < N; ++n) {
          S[p * N + n] = a * S[p * N + n] + x[(t * H + h) * P + p] * k.f32()[(t * G + g) * N + n];
          y += S[p * N + n] * q.f32()[(t * G + g) * N + n];
        }
        y += d.f32()[h] * x[(t * H + h) * P + p];
        for (int64_t s = 0; s <= t; ++s) ym += mr.f64()[(h * T + t) * T + s] * x[(s * H + h) * P + p];
        ASSERT_NEAR(ym, y, 1e-12 * (1 + std::fabs(y))) << "h " << h << " t " << t;
      }
    }
  }
}

}  // namespace
}  // namespace llamba
