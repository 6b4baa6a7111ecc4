// layernorm cpu vs the fp64 reference (with and without bias, a large common offset that a one-pass variance
// would cancel), and against known values; backward: ref vs complex step, cpu vs ref, accumulation.
#include "ops/layernorm.h"

#include "grad_check.h"
#include "ops/ref/layernorm_impl.h"

namespace llamba {
namespace {

TEST(LayerNorm, MatchesReference) {
  core::Rng rng(12);
  const int64_t M = 6, D = 48;
  core::Tensor w = test::rand_tensor(rng, {D}), b = test::rand_tensor(rng, {D});
  ops::Context ctx(2);
  for (double offset : {0.0, 100.0}) {
    std::vector<float> xv = test::randn(rng, M * D, 2.0);
    for (auto& v : xv) v += (float)offset;
    core::Tensor x = core::Tensor::from_f32({M, D}, xv);
    for (bool bias : {false, true}) {
      core::Tensor y = core::Tensor::zeros(core::DType::kF32, {M, D});
      core::Tensor yr = core::Tensor::zeros(core::DType::kF64, {M, D});
      ops::layernorm_forward(ctx, y, x, w, bias ? b.view() : core::TensorView{}, 1e-5f);
      ops::ref::layernorm_forward(yr, x, w, bias ? b.view() : core::TensorView{}, 1e-5);
      // Normalized values are O(1)·|w|; x − mean loses up to |offset|/std · eps in fp32 (offset 100, std 2: 50
      // ulps of the normalized value), hence c = 64 for the offset case.
      test::expect_close(y.f32(), yr.f64(), y.numel(), 1, 3.0, "layernorm", offset > 0 ? 64.0 : 8.0);
    }
  }
}

TEST(LayerNorm, KnownValues) {
  ops::Context ctx(1);
  core::Tensor x = core::Tensor::from_f32({1, 4}, std::vector<float>{1, 2, 3, 4});
  core::Tensor w = core::Tensor::from_f32({4}, std::vector<float>{1, 1, 1, 2});
  core::Tensor b = core::Tensor::from_f32({4}, std::vector<float>{0, 0, 1, 0});
  ops::layernorm_forward(ctx, x, x, w, b, 0.0f);  // in place; mean 2.5, var 1.25
  const double s = 1.0 / std::sqrt(1.25);
  EXPECT_NEAR(x.f32()[0], -1.5 * s, 1e-6);
  EXPECT_NEAR(x.f32()[1], -0.5 * s, 1e-6);
  EXPECT_NEAR(x.f32()[2], 0.5 * s + 1.0, 1e-6);
  EXPECT_NEAR(x.f32()[3], 3.0 * s, 1e-6);
}

using test::cd;

TEST(LayerNormBackward, RefMatchesComplexStep) {
  const double eps = 1e-5;
  for (auto [M, D] : {std::pair<int64_t, int64_t>{1, 3}, {3, 33}, {2, 31}}) {
    core::Rng rng(M * 100 + D);
    const auto x = test::randn64(rng, M * D, 2.0), w = test::randn64(rng, D), b = test::randn64(rng, D),
               r = test::randn64(rng, M * D);
    test::Pack p;
    const size_t ix = p.add(x), iw = p.add(w), ib = p.add(b);
    const auto num = test::complex_step_grad(p.x, [&](const std::vector<cd>& v) {
      std::vector<cd> y(M * D);
      ops::ref::impl::layernorm_forward(y.data(), p.at(v, ix), p.at(v, iw), p.at(v, ib), M, D, eps);
      return test::weighted_sum(r, y);
    });
    core::Tensor dx = test::zeros64({M, D}), dw = test::zeros64({D}), db = test::zeros64({D});
    ops::ref::layernorm_backward(dx, dw, db, test::tensor64({M, D}, r), test::tensor64({M, D}, x),
                                 test::tensor64({D}, w), eps);
    // Both sides exact to rounding (~D·eps64 ≈ 1e-14 here); 1e-12 leaves margin. (D = 2 would make dx pure
    // cancellation, O(eps/var), where only an absolute bound is meaningful: D starts at 3.)
    test::expect_grad_near(test::values(dx), p.part(num, ix), 1e-12, "layernorm dx (complex step)");
    test::expect_grad_near(test::values(dw), p.part(num, iw), 1e-12, "layernorm dw (complex step)");
    test::expect_grad_near(test::values(db), p.part(num, ib), 1e-12, "layernorm db (complex step)");
  }
}

TEST(LayerNormBackward, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t M, D;
    bool strided;
    double offset;
  };
  for (const Case& cs : {Case{1, 3, false, 0}, Case{1, 576, false, 0}, Case{5, 31, true, 0}, Case{7, 33, true, 0},
                         Case{512, 48, false, 0}, Case{6, 48, false, 100}}) {
    SCOPED_TRACE(testing::Message() << "M=" << cs.M << " D=" << cs.D << " offset=" << cs.offset);
    const int64_t M = cs.M, D = cs.D, ld = cs.strided ? D + 3 : D;
    core::Rng rng(M * 7 + D);
    std::vector<float> xv = test::randn(rng, M * ld, 2.0);
    for (auto& v : xv) v += (float)cs.offset;
    core::Tensor xb = core::Tensor::from_f32({M, ld}, xv), w = test::rand_tensor(rng, {D}),
                 dyb = test::rand_tensor(rng, {M, ld});
    const core::TensorView x = xb.view().slice(1, 0, D), dy = dyb.view().slice(1, 0, D);
    core::Tensor dxb = test::zeros32({M, ld}), dw = test::zeros32({D}), db = test::zeros32({D});
    const core::TensorView dx = dxb.view().slice(1, 0, D);
    core::Tensor dxr = test::zeros64({M, D}), dwr = test::zeros64({D}), dbr = test::zeros64({D});
    ops::Context ctx(3);
    ops::layernorm_backward(ctx, dx, dw, db, dy, x, w, 1e-5f);
    ops::ref::layernorm_backward(dxr, dwr, dbr, dy, x, w, 1e-5);
    const core::Tensor dxc = core::Tensor::copy_of(dx);
    // dx = r·(g − mean g − x̂·mean(g x̂)) with r ~ 1/2, terms ~ |dy·w| ~ 1 and two D-term means. x − mean costs
    // |offset|/std·eps relative to x̂ (offset 100, std 2: 50 ulps), hence c = 64 there (as in the forward test).
    // (D = 2 is left out: there x̂ = ±1 exactly and dx is pure cancellation, 0 up to eps/var.)
    const double c = cs.offset > 0 ? 64.0 : 4.0;
    test::expect_f32_grad(dxc, dxr, D, 0.5, "layernorm dx", c);
    // dw: sums over M rows of dy·x̂ ~ 1; db: sums of dy.
    test::expect_f32_grad(dw, dwr, M, 1.0, "layernorm dw", c);
    test::expect_f32_grad(db, dbr, M, 1.0, "layernorm db");
    const auto dx1 = test::values(dxc), dw1 = test::values(dw), db1 = test::values(db);
    ops::layernorm_backward(ctx, dx, {}, {}, dy, x, w, 1e-5f);
    ops::layernorm_backward(ctx, {}, dw, {}, dy, x, w, 1e-5f);
    ops::layernorm_backward(ctx, {}, {}, db, dy, x, w, 1e-5f);
    test::expect_doubled(core::Tensor::copy_of(dx), dx1, "layernorm dx");
    test::expect_doubled(dw, dw1, "layernorm dw");
    test::expect_doubled(db, db1, "layernorm db");
  }
}

}  // namespace
}  // namespace llamba
