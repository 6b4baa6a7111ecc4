// mixer_matrix: cpu vs reference; the matrix times X equals the step-by-step recurrence (fp64); strong decays and
// an exact reset (log_decay = -inf) stay finite. Backward: ref vs complex step (with a -inf reset: zero
// gradient, no NaN), cpu vs ref, accumulation.
#include "ops/mixer_matrix.h"

#include <cmath>

#include "grad_check.h"
#include "ops/mixer_matrix_impl.h"

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
  ops::Context ctx(2);
  ops::mixer_matrix_forward(ctx, m, q, k, ld, d);
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

TEST(MixerMatrixBackward, RefMatchesComplexStep) {
  const int64_t G = 2, H = 4, N = 3;
  const double scale = 0.7;
  for (int64_t T : {1, 2, 9}) {
    SCOPED_TRACE(testing::Message() << "T=" << T);
    core::Rng rng(T);
    const auto q = test::randn64(rng, T * G * N), k = test::randn64(rng, T * G * N), d = test::randn64(rng, H),
               r = test::randn64(rng, H * T * T);
    std::vector<double> ld(T * H);
    for (auto& v : ld) v = -rng.uniform(0.0, 2.0);
    if (T > 3) ld[3 * H + 2] = -INFINITY;  // a reset: every entry spanning it is exactly 0
    test::Pack p;
    const size_t iq = p.add(q), ik = p.add(k), il = p.add(ld), id = p.add(d);
    const auto num = test::complex_step_grad(p.x, [&](const std::vector<test::cd>& v) {
      std::vector<test::cd> m(H * T * T);
      for (int64_t h = 0; h < H; ++h)
        ops::detail::mixer_matrix_rows<test::cd>(m.data(), p.at(v, iq), p.at(v, ik), p.at(v, il), p.at(v, id), T, G,
                                                 N, H, h, 0, T, test::cd(scale));
      return test::weighted_sum(r, m);  // r's upper triangle multiplies constant zeros
    });
    core::Tensor dq = test::zeros64({T, G, N}), dk = test::zeros64({T, G, N}), dl = test::zeros64({T, H}),
                 dd = test::zeros64({H});
    ops::ref::mixer_matrix_backward(dq, dk, dl, dd, test::tensor64({H, T, T}, r), test::tensor64({T, G, N}, q),
                                    test::tensor64({T, G, N}, k), test::tensor64({T, H}, ld), scale);
    for (double v : test::values(dl)) ASSERT_TRUE(std::isfinite(v));
    if (T > 3) {
      EXPECT_EQ(dl.f64()[3 * H + 2], 0.0) << "-inf log decay gets zero gradient";
    }
    // Sums of <= T·N products (exact to ~T·N·eps64 ≈ 6e-15 here); 1e-12 leaves margin.
    test::expect_grad_near(test::values(dq), p.part(num, iq), 1e-12, "mixer_matrix dq (complex step)");
    test::expect_grad_near(test::values(dk), p.part(num, ik), 1e-12, "mixer_matrix dk (complex step)");
    test::expect_grad_near(test::values(dl), p.part(num, il), 1e-12, "mixer_matrix dlog_decay (complex step)");
    test::expect_grad_near(test::values(dd), p.part(num, id), 1e-12, "mixer_matrix dd (complex step)");
  }
}

TEST(MixerMatrixBackward, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t T, G, H, N;
    double decay;  // log decays uniform in (-decay, 0)
  };
  for (const Case& cs : {Case{1, 1, 1, 1, 1.0}, Case{1, 2, 4, 16, 1.0}, Case{33, 2, 4, 5, 1.0},
                         Case{31, 1, 3, 7, 3.0}, Case{512, 2, 4, 16, 0.05}}) {
    const int64_t T = cs.T, G = cs.G, H = cs.H, N = cs.N;
    SCOPED_TRACE(testing::Message() << "T=" << T << " G=" << G << " H=" << H << " N=" << N);
    core::Rng rng(T * 3 + N);
    core::Tensor q = test::rand_tensor(rng, {T, G, N}), k = test::rand_tensor(rng, {T, G, N}),
                 dm = test::rand_tensor(rng, {H, T, T}), ld = test::zeros32({T, H});
    for (int64_t i = 0; i < ld.numel(); ++i) ld.f32()[i] = (float)-rng.uniform(0.0, cs.decay);
    if (T > 5) ld.f32()[5 * H + H - 1] = -INFINITY;
    core::Tensor dq = test::zeros32({T, G, N}), dk = test::zeros32({T, G, N}), dl = test::zeros32({T, H}),
                 dd = test::zeros32({H});
    core::Tensor dqr = test::zeros64({T, G, N}), dkr = test::zeros64({T, G, N}), dlr = test::zeros64({T, H}),
                 ddr = test::zeros64({H});
    ops::Context ctx(3);
    const float scale = 0.5f;
    ops::mixer_matrix_backward(ctx, dq, dk, dl, dd, dm, q, k, ld, scale);
    ops::ref::mixer_matrix_backward(dqr, dkr, dlr, ddr, dm, q, k, ld, scale);
    // dq, dk: up to T·(H/G) terms |dm|·|k| ~ 1 under weights exp(Σ log decay) <= 1.
    const int64_t terms = T * (H / G);
    test::expect_f32_grad(dq, dqr, terms, std::sqrt((double)terms), "mixer_matrix dq");
    test::expect_f32_grad(dk, dkr, terms, std::sqrt((double)terms), "mixer_matrix dk");
    // dlog_decay: rectangle sums of up to T²/4 terms dm·M ~ sqrt(N), accumulated in double, so the error is the
    // fp32 terms' own (a few eps each, random signs): ~eps·sqrt(T²/4)·sqrt(N). Hence K = 1, scale T·sqrt(N)/2.
    test::expect_f32_grad(dl, dlr, 1, T * std::sqrt((double)N) / 2, "mixer_matrix dlog_decay");
    test::expect_f32_grad(dd, ddr, T, std::sqrt((double)T), "mixer_matrix dd");
    for (int64_t i = 0; i < dl.numel(); ++i) ASSERT_TRUE(std::isfinite(dl.f32()[i]));
    const auto dq1 = test::values(dq), dk1 = test::values(dk), dl1 = test::values(dl), dd1 = test::values(dd);
    ops::mixer_matrix_backward(ctx, dq, {}, dl, {}, dm, q, k, ld, scale);
    ops::mixer_matrix_backward(ctx, {}, dk, {}, dd, dm, q, k, ld, scale);
    test::expect_doubled(dq, dq1, "mixer_matrix dq");
    test::expect_doubled(dk, dk1, "mixer_matrix dk");
    test::expect_doubled(dl, dl1, "mixer_matrix dlog_decay");
    test::expect_doubled(dd, dd1, "mixer_matrix dd");
  }
}

}  // namespace
}  // namespace llamba
