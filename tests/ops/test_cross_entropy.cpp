// cross_entropy: ref backward vs complex step, cpu vs ref (loss and gradient), ignored rows, shift invariance
// with huge logits (max-subtracted log-sum-exp), accumulation, bad targets.
#include "ops/cross_entropy.h"

#include "grad_check.h"
#include "ops/ref/cross_entropy_impl.h"

namespace llamba {
namespace {

TEST(CrossEntropy, RefMatchesComplexStep) {
  for (int64_t V : {1, 7, 33}) {
    const int64_t M = 4;
    core::Rng rng(V);
    const auto logits = test::randn64(rng, M * V, 3.0);
    const std::vector<int32_t> targets = {0, -100, (int32_t)(V - 1), (int32_t)(V / 2)};
    const double dloss = 1.3;
    auto num = test::complex_step_grad(logits, [&](const std::vector<test::cd>& v) {
      return ops::ref::impl::cross_entropy_forward(v.data(), targets.data(), M, V);
    });
    for (auto& g : num) g *= dloss;
    core::Tensor dl = test::zeros64({M, V});
    ops::ref::cross_entropy_backward(dl, test::tensor64({M, V}, logits), targets, dloss);
    // Softmax of <= 33 terms: exact to rounding; 1e-12 leaves margin.
    test::expect_grad_near(test::values(dl), num, 1e-12, "cross_entropy dlogits (complex step)");
    for (int64_t v = 0; v < V; ++v) EXPECT_EQ(dl.f64()[V + v], 0.0) << "ignored row";
  }
}

TEST(CrossEntropy, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t M, V;
    bool strided;
    double shift;  // added to every logit: the loss and gradient must not change (stable log-sum-exp)
  };
  for (const Case& cs : {Case{1, 1, false, 0}, Case{5, 31, true, 0}, Case{7, 33, true, 1e4}, Case{2, 32000, false, 0},
                         Case{64, 500, false, -3e4}}) {
    const int64_t M = cs.M, V = cs.V, ld = cs.strided ? V + 3 : V;
    SCOPED_TRACE(testing::Message() << "M=" << M << " V=" << V << " shift=" << cs.shift);
    core::Rng rng(M + V);
    core::Tensor xb = test::rand_tensor(rng, {M, ld}, 4.0);
    std::vector<int32_t> targets(M);
    for (auto& t : targets) t = (int32_t)rng.below(V);
    if (M > 2) targets[1] = -1;
    core::Tensor xs = core::Tensor::copy_of(xb);  // shifted copy
    for (int64_t i = 0; i < xs.numel(); ++i) xs.f32()[i] += (float)cs.shift;
    const core::TensorView x = xb.view().slice(1, 0, V), xsh = xs.view().slice(1, 0, V);
    ops::Context ctx(3);
    // cpu and ref on the same (shifted) fp32 logits: a naive exp(x) would overflow or underflow to 0 / NaN.
    const double loss = ops::cross_entropy_forward(ctx, xsh, targets);
    const double loss_ref = ops::ref::cross_entropy_forward(xsh, targets);
    // fp32 exp/log per row, double sums: a few eps of the row's log-sum-exp magnitude (~|shift| + 30).
    EXPECT_NEAR(loss, loss_ref, 8 * test::kEpsF32 * (std::fabs(cs.shift) + 30));
    // Shift invariance, up to the rounding of the shifted logits (|shift|·eps each).
    EXPECT_NEAR(loss_ref, ops::ref::cross_entropy_forward(x, targets), 4 * test::kEpsF32 * (std::fabs(cs.shift) + 30));
    core::Tensor gb = test::zeros32({M, ld}), gr = test::zeros64({M, V});
    const core::TensorView g = gb.view().slice(1, 0, V);
    ops::cross_entropy_backward(ctx, g, xsh, targets, 0.75f);
    ops::ref::cross_entropy_backward(gr, xsh, targets, 0.75);
    const core::Tensor gc = core::Tensor::copy_of(g);
    // Each element is dloss/n · (p − onehot), p = exp(x − lse) with relative error ~eps·|x − lse|; where that
    // factor is large p is tiny, so the error stays within c·eps of dloss/n.
    const double n = M > 2 ? M - 1 : M;
    test::expect_f32_grad(gc, gr, 1, 0.75 / n, "cross_entropy dlogits");
    const auto g1 = test::values(gc);
    ops::cross_entropy_backward(ctx, g, xsh, targets, 0.75f);
    test::expect_doubled(core::Tensor::copy_of(g), g1, "cross_entropy dlogits");
  }
}

TEST(CrossEntropy, AllIgnoredAndBadTargets) {
  core::Rng rng(1);
  core::Tensor x = test::rand_tensor(rng, {3, 8});
  const std::vector<int32_t> none = {-1, -100, -1};
  ops::Context ctx(2);
  EXPECT_EQ(ops::cross_entropy_forward(ctx, x, none), 0.0);
  core::Tensor g = test::zeros32({3, 8});
  ops::cross_entropy_backward(ctx, g, x, none);
  for (int64_t i = 0; i < g.numel(); ++i) EXPECT_EQ(g.f32()[i], 0.0f);
  const std::vector<int32_t> bad = {0, 8, 1};
  EXPECT_THROW(ops::cross_entropy_forward(ctx, x, bad), Error);
  EXPECT_THROW(ops::ref::cross_entropy_backward(test::zeros64({3, 8}), x, bad), Error);
}

}  // namespace
}  // namespace llamba
