// mse: both reductions — ref backward vs complex step (da and db), vs central differences at a zero-distance
// row (the row norm's kink: gradient defined as 0), cpu vs ref, accumulation, empty gradients skipped.
#include "ops/mse.h"

#include "grad_check.h"
#include "ops/ref/mse_impl.h"

namespace llamba {
namespace {

using ops::L2Loss;

TEST(Mse, RefMatchesComplexStep) {
  for (auto [M, D] : {std::pair<int64_t, int64_t>{1, 1}, {3, 33}, {4, 31}}) {
    for (L2Loss kind : {L2Loss::kMeanSquare, L2Loss::kMeanRowNorm}) {
      SCOPED_TRACE(testing::Message() << "M=" << M << " D=" << D << " row_norm=" << (kind == L2Loss::kMeanRowNorm));
      core::Rng rng(M * 50 + D);
      const auto a = test::randn64(rng, M * D), b = test::randn64(rng, M * D);
      const double dloss = 1.7;
      test::Pack p;
      const size_t ia = p.add(a), ib = p.add(b);
      auto num = test::complex_step_grad(p.x, [&](const std::vector<test::cd>& v) {
        return ops::ref::impl::mse_forward(p.at(v, ia), p.at(v, ib), M, D, kind == L2Loss::kMeanRowNorm);
      });
      for (auto& g : num) g *= dloss;
      core::Tensor da = test::zeros64({M, D}), db = test::zeros64({M, D});
      ops::ref::mse_backward(da, db, test::tensor64({M, D}, a), test::tensor64({M, D}, b), kind, dloss);
      // Sums of <= 33 squares and a sqrt: exact to rounding; 1e-12 leaves margin.
      test::expect_grad_near(test::values(da), p.part(num, ia), 1e-12, "mse da (complex step)");
      test::expect_grad_near(test::values(db), p.part(num, ib), 1e-12, "mse db (complex step)");
    }
  }
}

// At a row with a == b the norm is not differentiable; its symmetric difference quotient is 0, which is the
// gradient we define. Central differences (h = 1e-6) are the check there: truncation ~h², rounding
// ~eps64·|f|/h ≈ 1e-10 relative, so 1e-7 is the tolerance.
TEST(Mse, RowNormCentralDifferencesAtZeroRow) {
  const int64_t M = 3, D = 6;
  core::Rng rng(2);
  auto a = test::randn64(rng, M * D), b = test::randn64(rng, M * D);
  for (int64_t i = 0; i < D; ++i) b[D + i] = a[D + i];  // row 1: zero distance
  test::Pack p;
  const size_t ia = p.add(a), ib = p.add(b);
  const auto num = test::central_diff_grad(p.x, [&](const std::vector<double>& v) {
    return ops::ref::impl::mse_forward(p.at(v, ia), p.at(v, ib), M, D, true);
  });
  core::Tensor da = test::zeros64({M, D}), db = test::zeros64({M, D});
  ops::ref::mse_backward(da, db, test::tensor64({M, D}, a), test::tensor64({M, D}, b), L2Loss::kMeanRowNorm);
  test::expect_grad_near(test::values(da), p.part(num, ia), 1e-7, "mse row-norm da (central, zero row)");
  test::expect_grad_near(test::values(db), p.part(num, ib), 1e-7, "mse row-norm db (central, zero row)");
  for (int64_t i = 0; i < D; ++i) EXPECT_EQ(da.f64()[D + i], 0.0);
}

TEST(Mse, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t M, D;
    bool strided;
  };
  for (const Case& cs : {Case{1, 1, false}, Case{1, 576, false}, Case{5, 31, true}, Case{7, 33, true},
                         Case{512, 64, false}}) {
    for (L2Loss kind : {L2Loss::kMeanSquare, L2Loss::kMeanRowNorm}) {
      const int64_t M = cs.M, D = cs.D, ld = cs.strided ? D + 3 : D;
      SCOPED_TRACE(testing::Message() << "M=" << M << " D=" << D << " row_norm=" << (kind == L2Loss::kMeanRowNorm));
      core::Rng rng(M + D);
      core::Tensor ab = test::rand_tensor(rng, {M, ld}), bb = test::rand_tensor(rng, {M, ld});
      const core::TensorView a = ab.view().slice(1, 0, D), b = bb.view().slice(1, 0, D);
      ops::Context ctx(3);
      const double loss = ops::mse_forward(ctx, a, b, kind), loss_ref = ops::ref::mse_forward(a, b, kind);
      // Differences and squares in double from the same fp32 inputs: only summation order differs.
      EXPECT_NEAR(loss, loss_ref, 1e-14 * loss_ref);
      core::Tensor gab = test::zeros32({M, ld}), gbb = test::zeros32({M, ld});
      const core::TensorView ga = gab.view().slice(1, 0, D), gb = gbb.view().slice(1, 0, D);
      core::Tensor gar = test::zeros64({M, D}), gbr = test::zeros64({M, D});
      ops::mse_backward(ctx, ga, gb, a, b, kind, 0.5f);
      ops::ref::mse_backward(gar, gbr, a, b, kind, 0.5);
      const core::Tensor gac = core::Tensor::copy_of(ga), gbc = core::Tensor::copy_of(gb);
      // Elementwise c·(a − b), c rounded to fp32 once: a few eps of |c|·|a − b| (|a − b| ~ 1.4).
      const double c = kind == L2Loss::kMeanSquare ? 1.0 / (M * D) : 0.5 / (M * std::sqrt(2.0 * D));
      test::expect_f32_grad(gac, gar, 1, c, "mse da");
      test::expect_f32_grad(gbc, gbr, 1, c, "mse db");
      const auto ga1 = test::values(gac), gb1 = test::values(gbc);
      ops::mse_backward(ctx, ga, {}, a, b, kind, 0.5f);
      ops::mse_backward(ctx, {}, gb, a, b, kind, 0.5f);
      test::expect_doubled(core::Tensor::copy_of(ga), ga1, "mse da");
      test::expect_doubled(core::Tensor::copy_of(gb), gb1, "mse db");
    }
  }
}

}  // namespace
}  // namespace llamba
