// kl_div: ref backward vs complex step for both variants and several temperatures; the variants' relation at
// τ = 1 (same gradient, losses differ by the teacher entropy); KL(p‖p) = 0; cpu vs ref; accumulation.
#include "ops/kl_div.h"

#include "grad_check.h"
#include "ops/ref/kl_div_impl.h"

namespace llamba {
namespace {

using ops::KdLoss;

TEST(KlDiv, RefMatchesComplexStep) {
  for (int64_t V : {1, 7, 33}) {
    for (auto [kind, tau] : {std::pair{KdLoss::kKl, 1.0}, {KdLoss::kKl, 2.5}, {KdLoss::kSoftCe, 1.0},
                             {KdLoss::kSoftCe, 2.0}}) {
      SCOPED_TRACE(testing::Message() << "V=" << V << " soft_ce=" << (kind == KdLoss::kSoftCe) << " tau=" << tau);
      const int64_t M = 3;
      core::Rng rng(V * 10 + (int)(tau * 2));
      const auto s = test::randn64(rng, M * V, 3.0), t = test::randn64(rng, M * V, 3.0);
      const double dloss = 0.8;
      std::vector<test::cd> tc(t.begin(), t.end());
      auto num = test::complex_step_grad(s, [&](const std::vector<test::cd>& v) {
        return ops::ref::impl::kl_div_forward(v.data(), tc.data(), M, V, tau, kind == KdLoss::kSoftCe);
      });
      for (auto& g : num) g *= dloss;
      core::Tensor ds = test::zeros64({M, V});
      ops::ref::kl_div_backward(ds, test::tensor64({M, V}, s), test::tensor64({M, V}, t), tau, kind, dloss);
      // Two softmaxes of <= 33 terms: exact to rounding; 1e-12 leaves margin.
      test::expect_grad_near(test::values(ds), num, 1e-12, "kl_div dstudent (complex step)");
    }
  }
}

TEST(KlDiv, VariantsAtUnitTemperatureAndZeroAtEquality) {
  const int64_t M = 4, V = 11;
  core::Rng rng(3);
  const core::Tensor s = test::tensor64({M, V}, test::randn64(rng, M * V, 2.0)),
                     t = test::tensor64({M, V}, test::randn64(rng, M * V, 2.0));
  double entropy = 0;  // mean teacher entropy
  for (int64_t m = 0; m < M; ++m) {
    std::vector<double> lp(V);
    ops::ref::impl::log_softmax_row(lp.data(), t.f64() + m * V, V, 1.0);
    for (double l : lp) entropy -= std::exp(l) * l / M;
  }
  const double kl = ops::ref::kl_div_forward(s, t, 1.0, KdLoss::kKl);
  const double ce = ops::ref::kl_div_forward(s, t, 1.0, KdLoss::kSoftCe);
  EXPECT_GT(kl, 0.0);
  EXPECT_NEAR(ce - kl, entropy, 1e-13);
  core::Tensor g1 = test::zeros64({M, V}), g2 = test::zeros64({M, V});
  ops::ref::kl_div_backward(g1, s, t, 1.0, KdLoss::kKl);
  ops::ref::kl_div_backward(g2, s, t, 1.0, KdLoss::kSoftCe);
  test::expect_grad_near(test::values(g1), test::values(g2), 1e-14, "kl_div kKl vs kSoftCe gradient at tau 1");
  EXPECT_NEAR(ops::ref::kl_div_forward(t, t, 2.0, KdLoss::kKl), 0.0, 1e-14);
}

TEST(KlDiv, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t M, V;
    bool strided;
  };
  for (const Case& cs : {Case{1, 1, false}, Case{5, 31, true}, Case{7, 33, true}, Case{2, 32000, false},
                         Case{64, 500, false}}) {
    for (auto [kind, tau] : {std::pair{KdLoss::kKl, 1.0f}, {KdLoss::kKl, 2.0f}, {KdLoss::kSoftCe, 0.5f}}) {
      const int64_t M = cs.M, V = cs.V, ld = cs.strided ? V + 3 : V;
      SCOPED_TRACE(testing::Message() << "M=" << M << " V=" << V << " soft_ce=" << (kind == KdLoss::kSoftCe)
                                      << " tau=" << tau);
      core::Rng rng(M + V);
      core::Tensor sb = test::rand_tensor(rng, {M, ld}, 4.0), tb = test::rand_tensor(rng, {M, ld}, 4.0);
      const core::TensorView s = sb.view().slice(1, 0, V), t = tb.view().slice(1, 0, V);
      ops::Context ctx(3);
      const double loss = ops::kl_div_forward(ctx, s, t, tau, kind);
      const double loss_ref = ops::ref::kl_div_forward(s, t, tau, kind);
      // The loss is Σ p·(a − b) with fp32 exponents a, b of magnitude <~ 30/τ (rounding eps each), plus double
      // log-sums: a few eps of 30/τ (times τ² for kKl).
      const double mag = 30.0 / tau * (kind == KdLoss::kKl ? (double)tau * tau : 1.0);
      EXPECT_NEAR(loss, loss_ref, 8 * test::kEpsF32 * mag);
      core::Tensor gb = test::zeros32({M, ld}), gr = test::zeros64({M, V});
      const core::TensorView g = gb.view().slice(1, 0, V);
      ops::kl_div_backward(ctx, g, s, t, tau, kind, 0.75f);
      ops::ref::kl_div_backward(gr, s, t, tau, kind, 0.75);
      const core::Tensor gc = core::Tensor::copy_of(g);
      // dloss/M · c · (q − p), probabilities with relative error ~eps·|exponent|, small where they matter (as
      // in cross_entropy); c = τ or 1/τ.
      const double c = kind == KdLoss::kKl ? tau : 1.0 / tau;
      test::expect_f32_grad(gc, gr, 1, 0.75 / M * c, "kl_div dstudent");
      const auto g1 = test::values(gc);
      ops::kl_div_backward(ctx, g, s, t, tau, kind, 0.75f);
      test::expect_doubled(core::Tensor::copy_of(g), g1, "kl_div dstudent");
    }
  }
}

}  // namespace
}  // namespace llamba
