// rope: cpu vs reference in both pair conventions, at large positions; llama.cpp's Q/K row permutation turns
// the half convention into the interleaved one. Backward: ref vs complex step (with pass-through dims), cpu vs
// ref, accumulation.
#include "ops/rope.h"

#include "grad_check.h"
#include "ops/ref/rope_impl.h"

namespace llamba {
namespace {

TEST(Rope, MatchesReferenceAtLargePositions) {
  const int64_t T = 4, H = 3, hd = 16;
  const std::vector<int64_t> pos = {0, 1, 8191, 131000};
  const std::vector<float> factors = {1, 1, 1, 2, 4, 8, 8, 8};
  const auto inv = ops::rope_inv_freq(hd, 500000.0, factors);
  for (auto style : {ops::RopeStyle::kInterleaved, ops::RopeStyle::kHalf}) {
    core::Rng rng(1);
    core::Tensor x = test::rand_tensor(rng, {T, H, hd});
    core::Tensor xr = core::Tensor::zeros(core::DType::kF64, {T, H, hd});
    for (int64_t i = 0; i < x.numel(); ++i) xr.f64()[i] = x.f32()[i];
    ops::Context ctx(2);
    ops::rope_forward(ctx, x, pos, inv, style);
    ops::ref::rope_forward(xr, pos, inv, style);
    // The angle pos·inv is rounded to fp32 (as transformers does): at pos 131000 that is an absolute angle error
    // of ~131000·eps ≈ 0.016 rad, which moves each output by up to that much.
    double worst = 0;
    for (int64_t i = 0; i < x.numel(); ++i) worst = std::max(worst, std::fabs(x.f32()[i] - xr.f64()[i]));
    EXPECT_LE(worst, 131000 * 2 * test::kEpsF32 * 4);
    for (int64_t i = 0; i < 2 * H * hd; ++i) EXPECT_NEAR(x.f32()[i], xr.f64()[i], 1e-6);  // positions 0 and 1
  }
}

TEST(Rope, PermutedRowsInterleavedEqualsHalf) {
  const int64_t hd = 8;
  const auto inv = ops::rope_inv_freq(hd, 10000.0);
  core::Rng rng(2);
  core::Tensor a = test::rand_tensor(rng, {1, 1, hd});
  core::Tensor b = core::Tensor::zeros(core::DType::kF32, {1, 1, hd});
  for (int64_t i = 0; i < hd / 2; ++i) {  // llama.cpp permute: row i -> 2i, row i + hd/2 -> 2i + 1
    b.f32()[2 * i] = a.f32()[i];
    b.f32()[2 * i + 1] = a.f32()[i + hd / 2];
  }
  ops::Context ctx(1);
  const std::vector<int64_t> pos = {37};
  ops::rope_forward(ctx, a, pos, inv, ops::RopeStyle::kHalf);
  ops::rope_forward(ctx, b, pos, inv, ops::RopeStyle::kInterleaved);
  for (int64_t i = 0; i < hd / 2; ++i) {
    EXPECT_EQ(b.f32()[2 * i], a.f32()[i]);
    EXPECT_EQ(b.f32()[2 * i + 1], a.f32()[i + hd / 2]);
  }
}

TEST(RopeBackward, RefMatchesComplexStep) {
  const int64_t T = 3, H = 2, hd = 10, rot = 6;  // dims 6..9 pass through
  const std::vector<int64_t> pos = {0, 3, 17};
  const auto inv = ops::rope_inv_freq(rot, 10000.0);
  for (auto style : {ops::RopeStyle::kInterleaved, ops::RopeStyle::kHalf}) {
    const bool il = style == ops::RopeStyle::kInterleaved;
    core::Rng rng(il);
    const auto x = test::randn64(rng, T * H * hd), r = test::randn64(rng, T * H * hd);
    const auto num = test::complex_step_grad(x, [&](const std::vector<test::cd>& v) {
      std::vector<test::cd> y = v;
      ops::ref::impl::rope_forward(y.data(), pos.data(), inv.data(), rot / 2, T, H, hd, il);
      return test::weighted_sum(r, y);
    });
    core::Tensor dx = test::zeros64({T, H, hd});
    ops::ref::rope_backward(dx, test::tensor64({T, H, hd}, r), pos, inv, style);
    // Two products per element: exact to rounding.
    test::expect_grad_near(test::values(dx), num, 1e-13, "rope dx (complex step)");
  }
}

TEST(RopeBackward, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t T, H, hd, rot, pos0;
  };
  for (const Case& cs : {Case{1, 1, 2, 2, 0}, Case{1, 9, 64, 64, 8191}, Case{64, 3, 64, 32, 0},
                         Case{5, 2, 33, 16, 100}}) {
    for (auto style : {ops::RopeStyle::kInterleaved, ops::RopeStyle::kHalf}) {
      const int64_t T = cs.T, H = cs.H, hd = cs.hd;
      SCOPED_TRACE(testing::Message() << "T=" << T << " H=" << H << " hd=" << hd << " pos0=" << cs.pos0);
      std::vector<int64_t> pos(T);
      for (int64_t t = 0; t < T; ++t) pos[t] = cs.pos0 + t;
      const auto inv = ops::rope_inv_freq(cs.rot, 500000.0);
      core::Rng rng(T + hd);
      core::Tensor dyb = test::rand_tensor(rng, {T, H + 1, hd});  // strided rows: a spare head per token
      const core::TensorView dy = dyb.view().slice(1, 0, H);
      core::Tensor dx = test::zeros32({T, H, hd}), dxr = test::zeros64({T, H, hd});
      ops::Context ctx(3);
      ops::rope_backward(ctx, dx, dy, pos, inv, style);
      ops::ref::rope_backward(dxr, dy, pos, inv, style);
      // The fp32 angle pos·inv_freq (as in the forward) is off by up to pos·eps/2 rad from the reference's
      // double angle; each output moves by |dy| times that (plus a few eps of rounding).
      const double max_pos = (double)(cs.pos0 + T);
      test::expect_f32_grad(dx, dxr, 1, 1.0 + max_pos, "rope dx");
      const auto d1 = test::values(dx);
      ops::rope_backward(ctx, dx, dy, pos, inv, style);
      test::expect_doubled(dx, d1, "rope dx");
    }
  }
}

}  // namespace
}  // namespace llamba
