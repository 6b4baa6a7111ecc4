// rmsnorm: cpu vs double reference (forward); backward: ref vs complex step, cpu vs ref, accumulation.
#include "ops/rmsnorm.h"

#include "grad_check.h"
#include "ops/ref/rmsnorm_impl.h"

namespace llamba {
namespace {

using test::cd;

TEST(RmsNorm, MatchesReference) {
  for (int64_t D : {1, 7, 64, 576}) {
    core::Rng rng(D);
    core::Tensor x = test::rand_tensor(rng, {5, D}, 3.0), w = test::rand_tensor(rng, {D});
    core::Tensor y = core::Tensor::zeros(core::DType::kF32, {5, D}), yr = core::Tensor::zeros(core::DType::kF64, {5, D});
    ops::Context ctx(2);
    ops::rmsnorm_forward(ctx, y, x, w, 1e-5f);
    ops::ref::rmsnorm_forward(yr, x, w, 1e-5);
    test::expect_close(y.f32(), yr.f64(), 5 * D, D, 1.0, "rmsnorm");
    ops::rmsnorm_forward(ctx, x, x, w, 1e-5f);  // in place
    test::expect_close(x.f32(), yr.f64(), 5 * D, D, 1.0, "rmsnorm in place");
  }
}

TEST(RmsNormBackward, RefMatchesComplexStep) {
  const double eps = 1e-5;
  for (auto [M, D] : {std::pair<int64_t, int64_t>{1, 1}, {3, 33}, {2, 31}}) {
    core::Rng rng(M * 100 + D);
    const auto x = test::randn64(rng, M * D, 2.0), w = test::randn64(rng, D), r = test::randn64(rng, M * D);
    test::Pack p;
    const size_t ix = p.add(x), iw = p.add(w);
    const auto num = test::complex_step_grad(p.x, [&](const std::vector<cd>& v) {
      std::vector<cd> y(M * D);
      ops::ref::impl::rmsnorm_forward(y.data(), p.at(v, ix), p.at(v, iw), M, D, eps);
      return test::weighted_sum(r, y);
    });
    core::Tensor dx = test::zeros64({M, D}), dw = test::zeros64({D});
    ops::ref::rmsnorm_backward(dx, dw, test::tensor64({M, D}, r), test::tensor64({M, D}, x), test::tensor64({D}, w),
                               eps);
    // Both sides are exact to rounding (~D·eps64 ≈ 1e-14 here); 1e-12 leaves margin.
    test::expect_grad_near(test::values(dx), p.part(num, ix), 1e-12, "rmsnorm dx (complex step)");
    test::expect_grad_near(test::values(dw), p.part(num, iw), 1e-12, "rmsnorm dw (complex step)");
  }
}

TEST(RmsNormBackward, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t M, D;
    bool strided;
  };
  for (const Case& cs : {Case{1, 1, false}, Case{1, 576, false}, Case{5, 31, true}, Case{7, 33, true},
                         Case{512, 64, false}}) {
    SCOPED_TRACE(testing::Message() << "M=" << cs.M << " D=" << cs.D);
    const int64_t M = cs.M, D = cs.D, ld = cs.strided ? D + 3 : D;
    core::Rng rng(M * 7 + D);
    core::Tensor xb = test::rand_tensor(rng, {M, ld}, 3.0), w = test::rand_tensor(rng, {D}),
                 dyb = test::rand_tensor(rng, {M, ld});
    const core::TensorView x = xb.view().slice(1, 0, D), dy = dyb.view().slice(1, 0, D);
    core::Tensor dxb = test::zeros32({M, ld}), dw = test::zeros32({D});
    const core::TensorView dx = dxb.view().slice(1, 0, D);
    core::Tensor dxr = test::zeros64({M, D}), dwr = test::zeros64({D});
    ops::Context ctx(3);
    ops::rmsnorm_backward(ctx, dx, dw, dy, x, w, 1e-5f);
    ops::ref::rmsnorm_backward(dxr, dwr, dy, x, w, 1e-5);
    const core::Tensor dxc = core::Tensor::copy_of(dx);
    // dx: r·w·dy ~ 1/3 per element, minus a correction built from a D-term dot product.
    // For D = 1, dx ≈ w·eps/|x|³ is what is left after the two terms cancel: only the absolute bound applies.
    test::expect_f32_grad(dxc, dxr, D, 1.0 / 3, "rmsnorm dx", 4.0, D == 1 ? 1.0 : 1e-7);
    // dw: a sum over M rows of dy·x·r ~ 1.
    test::expect_f32_grad(dw, dwr, M, 1.0, "rmsnorm dw");
    // Accumulation: a second call doubles each output; an empty dw is skipped.
    const auto dx1 = test::values(dxc), dw1 = test::values(dw);
    ops::rmsnorm_backward(ctx, dx, {}, dy, x, w, 1e-5f);
    ops::rmsnorm_backward(ctx, {}, dw, dy, x, w, 1e-5f);
    test::expect_doubled(core::Tensor::copy_of(dx), dx1, "rmsnorm dx");
    test::expect_doubled(dw, dw1, "rmsnorm dw");
  }
}

}  // namespace
}  // namespace llamba
