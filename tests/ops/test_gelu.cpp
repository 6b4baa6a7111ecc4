// gelu cpu vs the fp64 reference, with and without a bias, on values spanning the curve's bend and tails;
// backward: ref vs central differences (erf has no complex overload, so no complex step), cpu vs ref,
// accumulation, saturated inputs.
#include "ops/gelu.h"

#include "grad_check.h"
#include "ops/ref/gelu_impl.h"

namespace llamba {
namespace {

TEST(Gelu, MatchesReference) {
  core::Rng rng(11);
  core::Tensor x = test::rand_tensor(rng, {5, 43}, 3.0), b = test::rand_tensor(rng, {43});
  ops::Context ctx(2);
  for (bool bias : {false, true}) {
    core::Tensor o = core::Tensor::zeros(core::DType::kF32, {5, 43});
    core::Tensor orf = core::Tensor::zeros(core::DType::kF64, {5, 43});
    ops::gelu_forward(ctx, o, x, bias ? b.view() : core::TensorView{});
    ops::ref::gelu_forward(orf, x, bias ? b.view() : core::TensorView{});
    // No reduction: a few roundings (bias add, scale, erff's ~1-2 ulp, two products) relative to |x| ~ 3.
    test::expect_close(o.f32(), orf.f64(), o.numel(), 1, 3.0, "gelu", 8.0);
  }
}

TEST(Gelu, KnownValuesAndInPlace) {
  ops::Context ctx(1);
  core::Tensor x = core::Tensor::from_f32({1, 4}, std::vector<float>{0.0f, 1.0f, -1.0f, 10.0f});
  ops::gelu_forward(ctx, x, x);  // aliasing allowed
  EXPECT_EQ(x.f32()[0], 0.0f);
  EXPECT_NEAR(x.f32()[1], 0.8413447460685429, 1e-7);   // Φ(1)
  EXPECT_NEAR(x.f32()[2], -0.15865525393145707, 1e-7);  // −(1 − Φ(1))
  EXPECT_EQ(x.f32()[3], 10.0f);
}

TEST(GeluBackward, RefMatchesCentralDifferences) {
  for (auto [M, F] : {std::pair<int64_t, int64_t>{1, 1}, {3, 33}}) {
    for (bool bias : {false, true}) {
      core::Rng rng(M * 10 + F + bias);
      const auto x = test::randn64(rng, M * F, 3.0), b = test::randn64(rng, F), r = test::randn64(rng, M * F);
      test::Pack p;
      const size_t ix = p.add(x), ib = p.add(b);
      const auto num = test::central_diff_grad(p.x, [&](const std::vector<double>& v) {
        std::vector<double> o(M * F);
        ops::ref::impl::gelu_forward(o.data(), p.at(v, ix), bias ? p.at(v, ib) : nullptr, M, F);
        return test::weighted_sum(r, o);
      });
      core::Tensor dx = test::zeros64({M, F}), db = test::zeros64({F});
      const core::Tensor bt = test::tensor64({F}, b);
      ops::ref::gelu_backward(dx, bias ? db.view() : core::TensorView{}, test::tensor64({M, F}, r),
                              test::tensor64({M, F}, x), bias ? bt.view() : core::TensorView{});
      // Central differences with h = 1e-6·max(1, |x|): truncation ~h²·|gelu‴|/6 ≈ 1e-13, rounding
      // ~eps64·|f|/h ≈ 2e-10·|f| with |f| = |Σ r·gelu| ≲ 30 here: ~1e-8 absolute against gradients of O(1).
      test::expect_grad_near(test::values(dx), p.part(num, ix), 1e-7, "gelu dx (central diff)");
      if (bias) test::expect_grad_near(test::values(db), p.part(num, ib), 1e-7, "gelu dbias (central diff)");
    }
  }
}

TEST(GeluBackward, CpuMatchesRefAndAccumulates) {
  for (const test::ElementwiseShape& cs : test::kElementwiseShapes) {
    SCOPED_TRACE(testing::Message() << "M=" << cs.M << " F=" << cs.F);
    const int64_t M = cs.M, F = cs.F, ld = cs.ld();
    core::Rng rng(M * 3 + F);
    core::Tensor xb = test::rand_tensor(rng, {M, ld}, 3.0), db = test::rand_tensor(rng, {M, ld}),
                 bias = test::rand_tensor(rng, {F});
    // Saturated inputs: gelu' must be exactly 1 and 0 there, never NaN.
    xb.f32()[0] = 100.0f;
    if (M * ld > 1) xb.f32()[1] = -100.0f;
    const core::TensorView x = xb.view().slice(1, 0, F), d = db.view().slice(1, 0, F);
    for (bool with_bias : {false, true}) {
      const core::TensorView bv = with_bias ? bias.view() : core::TensorView{};
      core::Tensor dxb = test::zeros32({M, ld}), dbias = test::zeros32({F});
      const core::TensorView dx = dxb.view().slice(1, 0, F);
      core::Tensor dxr = test::zeros64({M, F}), dbr = test::zeros64({F});
      ops::Context ctx(3);
      ops::gelu_backward(ctx, dx, dbias, d, x, bv);
      ops::ref::gelu_backward(dxr, dbr, d, x, bv);
      const core::Tensor dxc = core::Tensor::copy_of(dx);
      // Elementwise: erff/expf (1-2 ulp each) and a few products; gelu' ∈ [−0.17, 1.13], so errors scale with
      // |dout| ~ 1.
      test::expect_f32_grad(dxc, dxr, 1, 1.0, "gelu dx", 8.0);
      // dbias: sums of M such terms.
      test::expect_f32_grad(dbias, dbr, M, 1.0, "gelu dbias", 8.0);
      if (!with_bias) {
        EXPECT_EQ(dxb.f32()[0], db.f32()[0]) << "gelu'(100) = 1";
        if (M * ld > 1) {
          EXPECT_EQ(dxb.f32()[1], 0.0f) << "gelu'(-100) = 0";
        }
      }
      const auto dx1 = test::values(dxc), db1 = test::values(dbias);
      ops::gelu_backward(ctx, dx, {}, d, x, bv);
      ops::gelu_backward(ctx, {}, dbias, d, x, bv);
      test::expect_doubled(core::Tensor::copy_of(dx), dx1, "gelu dx");
      test::expect_doubled(dbias, db1, "gelu dbias");
    }
  }
}

}  // namespace
}  // namespace llamba
