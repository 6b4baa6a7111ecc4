// token_scores: cpu vs the double reference (strided rows, odd vocabularies), hand-checked values, KL(p ‖ p) = 0
// exactly, ties, and bad targets.
#include "ops/token_scores.h"

#include <gtest/gtest.h>

#include <cmath>

#include "op_test_util.h"

namespace llamba {
namespace {

struct Outputs {
  explicit Outputs(int64_t M) : logprob(M), base_logprob(M), kl(M), argmax(M), base_argmax(M) {}
  ops::TokenScoreRows rows() { return {logprob, argmax, base_logprob, base_argmax, kl}; }
  std::vector<double> logprob, base_logprob, kl;
  std::vector<int32_t> argmax, base_argmax;
};

TEST(TokenScores, CpuMatchesRef) {
  ops::Context ctx(2);
  for (int64_t V : {1, 7, 1001, 49152}) {
    SCOPED_TRACE(V);
    const int64_t M = 5, ld = V + 3;  // strided rows
    core::Rng rng(V);
    core::Tensor xb = test::rand_tensor(rng, {M, ld}), bb = test::rand_tensor(rng, {M, ld});
    for (int64_t i = 0; i < M * ld; ++i) xb.f32()[i] *= 8, bb.f32()[i] = xb.f32()[i] + 0.5f * bb.f32()[i];
    const core::TensorView x = xb.view().slice(1, 0, V), b = bb.view().slice(1, 0, V);
    std::vector<int32_t> tgt(M);
    for (int64_t m = 0; m < M; ++m) tgt[m] = (int32_t)(rng.next_u64() % V);
    Outputs c(M), r(M);
    ops::token_scores_forward(ctx, x, b, tgt, c.rows());
    ops::ref::token_scores_forward(x, b, tgt, r.rows());
    for (int64_t m = 0; m < M; ++m) {
      // fp32 exps (relative error ~eps each) summed in double: the log-sum-exp is off by ~eps; x_t − max is one
      // fp32 rounding of a value up to ~2·8: together well under 1e-5 absolute.
      EXPECT_NEAR(c.logprob[m], r.logprob[m], 1e-5);
      EXPECT_NEAR(c.base_logprob[m], r.base_logprob[m], 1e-5);
      // KL: Σ p (b − x) in double from fp32 exps, plus two log-sum-exps: each ~eps·|b − x| or ~eps.
      EXPECT_NEAR(c.kl[m], r.kl[m], 1e-5 * (1 + r.kl[m]));
      EXPECT_EQ(c.argmax[m], r.argmax[m]);
      EXPECT_EQ(c.base_argmax[m], r.base_argmax[m]);
      EXPECT_GE(r.kl[m], 0.0);
    }
  }
}

TEST(TokenScores, HandCheckedSelfKlAndTies) {
  ops::Context ctx(1);
  // Row 0: logits (0, ln 3) → p = (1/4, 3/4). Row 1: a tie between ids 1 and 2 goes to 1.
  const std::vector<float> v = {0.0f, std::log(3.0f), -INFINITY, 0.0f, 2.0f, 2.0f};
  const core::Tensor x = core::Tensor::from_f32({2, 3}, v);
  const std::vector<int32_t> tgt = {0, 2};
  Outputs o(2);
  ops::token_scores_forward(ctx, x, x, tgt, o.rows());
  EXPECT_NEAR(o.logprob[0], std::log(0.25), 1e-7);
  EXPECT_EQ(o.argmax[0], 1);
  EXPECT_EQ(o.argmax[1], 1);
  EXPECT_NEAR(o.logprob[1], 2.0 - std::log(1 + 2 * std::exp(2.0)), 1e-6);
  EXPECT_EQ(o.kl[0], 0.0) << "a model against itself: exactly zero";
  EXPECT_EQ(o.kl[1], 0.0);
  EXPECT_EQ(o.base_logprob[1], o.logprob[1]);
}

TEST(TokenScores, BadInputThrows) {
  ops::Context ctx(1);
  const core::Tensor x = core::Tensor::zeros(core::DType::kF32, {2, 4});
  Outputs o(2);
  EXPECT_THROW(ops::token_scores_forward(ctx, x, {}, std::vector<int32_t>{0, 4}, o.rows()), Error);
  EXPECT_THROW(ops::token_scores_forward(ctx, x, {}, std::vector<int32_t>{0}, o.rows()), Error);
  const core::Tensor y = core::Tensor::zeros(core::DType::kF32, {2, 5});
  EXPECT_THROW(ops::token_scores_forward(ctx, x, y, std::vector<int32_t>{0, 1}, o.rows()), Error);
}

}  // namespace
}  // namespace llamba
