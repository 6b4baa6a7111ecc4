// swiglu: cpu vs reference (forward); backward: ref vs complex step, cpu vs ref, accumulation, saturated gates.
#include "ops/swiglu.h"

#include "grad_check.h"
#include "ops/ref/swiglu_impl.h"

namespace llamba {
namespace {

using test::cd;

TEST(SwiGlu, MatchesReference) {
  core::Rng rng(5);
  core::Tensor g = test::rand_tensor(rng, {4, 37}, 4.0), u = test::rand_tensor(rng, {4, 37}), b = test::rand_tensor(rng, {37});
  for (bool bias : {false, true}) {
    core::Tensor o = core::Tensor::zeros(core::DType::kF32, {4, 37}), orf = core::Tensor::zeros(core::DType::kF64, {4, 37});
    ops::Context ctx(2);
    ops::swiglu_forward(ctx, o, g, u, bias ? b.view() : core::TensorView{});
    ops::ref::swiglu_forward(orf, g, u, bias ? b.view() : core::TensorView{});
    test::expect_close(o.f32(), orf.f64(), o.numel(), 1, 4.0, "swiglu");
  }
}

TEST(SwiGluBackward, RefMatchesComplexStep) {
  for (auto [M, F] : {std::pair<int64_t, int64_t>{1, 1}, {3, 33}}) {
    for (bool bias : {false, true}) {
      core::Rng rng(M * 10 + F + bias);
      const auto g = test::randn64(rng, M * F, 4.0), u = test::randn64(rng, M * F), b = test::randn64(rng, F),
                 r = test::randn64(rng, M * F);
      test::Pack p;
      const size_t ig = p.add(g), iu = p.add(u), ib = p.add(b);
      const auto num = test::complex_step_grad(p.x, [&](const std::vector<cd>& v) {
        std::vector<cd> o(M * F);
        ops::ref::impl::swiglu_forward(o.data(), p.at(v, ig), p.at(v, iu), bias ? p.at(v, ib) : nullptr, M, F);
        return test::weighted_sum(r, o);
      });
      core::Tensor dg = test::zeros64({M, F}), du = test::zeros64({M, F}), db = test::zeros64({F});
      const core::Tensor bt = test::tensor64({F}, b);
      ops::ref::swiglu_backward(dg, du, bias ? db.view() : core::TensorView{}, test::tensor64({M, F}, r),
                                test::tensor64({M, F}, g), test::tensor64({M, F}, u),
                                bias ? bt.view() : core::TensorView{});
      // Exact to rounding on both sides (a handful of operations per element); 1e-12 leaves margin.
      test::expect_grad_near(test::values(dg), p.part(num, ig), 1e-12, "swiglu dgate (complex step)");
      test::expect_grad_near(test::values(du), p.part(num, iu), 1e-12, "swiglu dup (complex step)");
      if (bias) test::expect_grad_near(test::values(db), p.part(num, ib), 1e-12, "swiglu dgate_bias (complex step)");
    }
  }
}

TEST(SwiGluBackward, CpuMatchesRefAndAccumulates) {
  for (const test::ElementwiseShape& cs : test::kElementwiseShapes) {
    SCOPED_TRACE(testing::Message() << "M=" << cs.M << " F=" << cs.F);
    const int64_t M = cs.M, F = cs.F, ld = cs.ld();
    core::Rng rng(M * 3 + F);
    core::Tensor gb = test::rand_tensor(rng, {M, ld}, 4.0), ub = test::rand_tensor(rng, {M, ld}),
                 db = test::rand_tensor(rng, {M, ld}), bias = test::rand_tensor(rng, {F});
    // Saturated gates: silu' must be finite (0 or 1), never NaN.
    gb.f32()[0] = 100.0f;
    if (M * ld > 1) gb.f32()[1] = -100.0f;
    const core::TensorView g = gb.view().slice(1, 0, F), u = ub.view().slice(1, 0, F), d = db.view().slice(1, 0, F);
    core::Tensor dgb = test::zeros32({M, ld}), dub = test::zeros32({M, ld}), dbias = test::zeros32({F});
    const core::TensorView dg = dgb.view().slice(1, 0, F), du = dub.view().slice(1, 0, F);
    core::Tensor dgr = test::zeros64({M, F}), dur = test::zeros64({M, F}), dbr = test::zeros64({F});
    ops::Context ctx(3);
    ops::swiglu_backward(ctx, dg, du, dbias, d, g, u, bias);
    ops::ref::swiglu_backward(dgr, dur, dbr, d, g, u, bias);
    const core::Tensor dgc = core::Tensor::copy_of(dg), duc = core::Tensor::copy_of(du);
    // Elementwise: a few roundings in sigmoid/exp per element (|dgate| up to ~1.1·|dout·up|).
    test::expect_f32_grad(dgc, dgr, 1, 1.0, "swiglu dgate");
    test::expect_f32_grad(duc, dur, 1, 1.0, "swiglu dup");
    // dgate_bias: sums of M such terms.
    test::expect_f32_grad(dbias, dbr, M, 1.0, "swiglu dgate_bias");
    const auto dg1 = test::values(dgc), du1 = test::values(duc), db1 = test::values(dbias);
    ops::swiglu_backward(ctx, dg, {}, {}, d, g, u, bias);
    ops::swiglu_backward(ctx, {}, du, {}, d, g, u, bias);
    ops::swiglu_backward(ctx, {}, {}, dbias, d, g, u, bias);
    test::expect_doubled(core::Tensor::copy_of(dg), dg1, "swiglu dgate");
    test::expect_doubled(core::Tensor::copy_of(du), du1, "swiglu dup");
    test::expect_doubled(dbias, db1, "swiglu dgate_bias");
  }
}

}  // namespace
}  // namespace llamba
