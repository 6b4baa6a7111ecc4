// layernorm cpu vs the fp64 reference (with and without bias, a large common offset that a one-pass variance
// would cancel), and against known values.
#include "ops/layernorm.h"

#include "op_test_util.h"

namespace llamba {
namespace {

TEST(LayerNorm, MatchesReference) {
  core::Rng rng(12);
  const int64_t M = 6, D = 48;
  core::Tensor w = test::rand_tensor(rng, {D}), b = test::rand_tensor(rng, {D});
  core::ThreadPool pool(2);
  for (double offset : {0.0, 100.0}) {
    std::vector<float> xv = test::randn(rng, M * D, 2.0);
    for (auto& v : xv) v += (float)offset;
    core::Tensor x = core::Tensor::from_f32({M, D}, xv);
    for (bool bias : {false, true}) {
      core::Tensor y = core::Tensor::zeros(core::DType::kF32, {M, D});
      core::Tensor yr = core::Tensor::zeros(core::DType::kF64, {M, D});
      ops::layernorm_forward(pool, y, x, w, bias ? b.view() : core::TensorView{}, 1e-5f);
      ops::ref::layernorm_forward(yr, x, w, bias ? b.view() : core::TensorView{}, 1e-5);
      // Normalized values are O(1)·|w|; x − mean loses up to |offset|/std · eps in fp32 (offset 100, std 2: 50
      // ulps of the normalized value), hence c = 64 for the offset case.
      test::expect_close(y.f32(), yr.f64(), y.numel(), 1, 3.0, "layernorm", offset > 0 ? 64.0 : 8.0);
    }
  }
}

TEST(LayerNorm, KnownValues) {
  core::ThreadPool pool(1);
  core::Tensor x = core::Tensor::from_f32({1, 4}, std::vector<float>{1, 2, 3, 4});
  core::Tensor w = core::Tensor::from_f32({4}, std::vector<float>{1, 1, 1, 2});
  core::Tensor b = core::Tensor::from_f32({4}, std::vector<float>{0, 0, 1, 0});
  ops::layernorm_forward(pool, x, x, w, b, 0.0f);  // in place; mean 2.5, var 1.25
  const double s = 1.0 / std::sqrt(1.25);
  EXPECT_NEAR(x.f32()[0], -1.5 * s, 1e-6);
  EXPECT_NEAR(x.f32()[1], -0.5 * s, 1e-6);
  EXPECT_NEAR(x.f32()[2], 0.5 * s + 1.0, 1e-6);
  EXPECT_NEAR(x.f32()[3], 3.0 * s, 1e-6);
}

}  // namespace
}  // namespace llamba
