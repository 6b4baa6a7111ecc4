// rope: cpu vs reference in both pair conventions, at large positions; llama.cpp's Q/K row permutation turns
// the half convention into the interleaved one.
#include "ops/rope.h"

#include "op_test_util.h"

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
    core::ThreadPool pool(2);
    ops::rope_forward(pool, x, pos, inv, style);
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
  core::ThreadPool pool(1);
  const std::vector<int64_t> pos = {37};
  ops::rope_forward(pool, a, pos, inv, ops::RopeStyle::kHalf);
  ops::rope_forward(pool, b, pos, inv, ops::RopeStyle::kInterleaved);
  for (int64_t i = 0; i < hd / 2; ++i) {
    EXPECT_EQ(b.f32()[2 * i], a.f32()[i]);
    EXPECT_EQ(b.f32()[2 * i + 1], a.f32()[i + hd / 2]);
  }
}

}  // namespace
}  // namespace llamba
