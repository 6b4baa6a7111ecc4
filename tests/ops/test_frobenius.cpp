// frobenius (MOHAWK stage 1 loss): value against a direct per-(b, h) computation; ref backward vs complex step;
// central differences where one (b, h) has M == A (gradient 0 there); cpu vs ref; decode and prefill shapes.
#include "ops/frobenius.h"

#include "grad_check.h"
#include "ops/ref/mse_impl.h"

namespace llamba {
namespace {

TEST(Frobenius, ValueIsMeanOfUnsquaredNorms) {
  const int64_t B = 2, H = 3, T = 5;
  core::Rng rng(1);
  const auto m = test::randn64(rng, B * H * T * T), a = test::randn64(rng, B * H * T * T);
  double expect = 0;
  for (int64_t bh = 0; bh < B * H; ++bh) {
    double ss = 0;
    for (int64_t i = 0; i < T * T; ++i) ss += std::pow(m[bh * T * T + i] - a[bh * T * T + i], 2);
    expect += std::sqrt(ss) / (B * H);
  }
  EXPECT_NEAR(ops::ref::frobenius_forward(test::tensor64({B, H, T, T}, m), test::tensor64({B, H, T, T}, a)), expect,
              1e-14 * expect);
}

TEST(Frobenius, RefMatchesComplexStepAndCentralDifferencesAtZero) {
  const int64_t B = 2, H = 2, T = 4, n = B * H * T * T;
  core::Rng rng(2);
  auto m = test::randn64(rng, n), a = test::randn64(rng, n);
  const double dloss = 1.3;
  auto f = [&](const auto& v) { return ops::ref::impl::mse_forward(v.data(), a.data(), B * H, T * T, true); };
  std::vector<test::cd> ac(a.begin(), a.end());
  auto num = test::complex_step_grad(m, [&](const std::vector<test::cd>& v) {
    return ops::ref::impl::mse_forward(v.data(), ac.data(), B * H, T * T, true);
  });
  for (auto& g : num) g *= dloss;
  core::Tensor dm = test::zeros64({B, H, T, T});
  ops::ref::frobenius_backward(dm, test::tensor64({B, H, T, T}, m), test::tensor64({B, H, T, T}, a), dloss);
  // Sums of 16 squares and a sqrt: exact to rounding; 1e-12 leaves margin.
  test::expect_grad_near(test::values(dm), num, 1e-12, "frobenius dm (complex step)");
  // (b, h) = (1, 0) matches exactly: the norm's kink. Central differences (h = 1e-6: error ~1e-10 relative).
  for (int64_t i = 0; i < T * T; ++i) m[2 * T * T + i] = a[2 * T * T + i];
  auto numc = test::central_diff_grad(m, f);
  for (auto& g : numc) g *= dloss;
  core::Tensor dm0 = test::zeros64({B, H, T, T});
  ops::ref::frobenius_backward(dm0, test::tensor64({B, H, T, T}, m), test::tensor64({B, H, T, T}, a), dloss);
  test::expect_grad_near(test::values(dm0), numc, 1e-7, "frobenius dm (central, one zero norm)");
  for (int64_t i = 0; i < T * T; ++i) EXPECT_EQ(dm0.f64()[2 * T * T + i], 0.0);
}

TEST(Frobenius, CpuMatchesRefAndAccumulates) {
  for (auto [B, H, T] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {1, 4, 1}, {2, 3, 33}, {1, 4, 256}}) {
    SCOPED_TRACE(testing::Message() << "B=" << B << " H=" << H << " T=" << T);
    core::Rng rng(B + H + T);
    const core::Shape s = B == 1 ? core::Shape{H, T, T} : core::Shape{B, H, T, T};  // rank 3 = one batch row
    core::Tensor m = test::rand_tensor(rng, s), a = test::rand_tensor(rng, s);
    ops::Context ctx(3);
    const double loss = ops::frobenius_forward(ctx, m, a), loss_ref = ops::ref::frobenius_forward(m, a);
    // Squares summed in double from the same fp32 inputs: only the summation order differs.
    EXPECT_NEAR(loss, loss_ref, 1e-14 * loss_ref);
    core::Tensor dm = test::zeros32(s), dmr = test::zeros64(s);
    ops::frobenius_backward(ctx, dm, m, a, 2.0f);
    ops::ref::frobenius_backward(dmr, m, a, 2.0);
    // Elementwise c·(m − a) with c = dloss / (‖m − a‖·B·H), ‖m − a‖ ~ sqrt(2)·T, rounded to fp32 once.
    test::expect_f32_grad(dm, dmr, 1, 2.0 / (std::sqrt(2.0) * T * B * H), "frobenius dm");
    const auto d1 = test::values(dm);
    ops::frobenius_backward(ctx, dm, m, a, 2.0f);
    test::expect_doubled(dm, d1, "frobenius dm");
  }
}

}  // namespace
}  // namespace llamba
