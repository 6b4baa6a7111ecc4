// gelu cpu vs the fp64 reference, with and without a bias, on values spanning the curve's bend and tails.
#include "ops/gelu.h"

#include "op_test_util.h"

namespace llamba {
namespace {

TEST(Gelu, MatchesReference) {
  core::Rng rng(11);
  core::Tensor x = test::rand_tensor(rng, {5, 43}, 3.0), b = test::rand_tensor(rng, {43});
  core::ThreadPool pool(2);
  for (bool bias : {false, true}) {
    core::Tensor o = core::Tensor::zeros(core::DType::kF32, {5, 43});
    core::Tensor orf = core::Tensor::zeros(core::DType::kF64, {5, 43});
    ops::gelu_forward(pool, o, x, bias ? b.view() : core::TensorView{});
    ops::ref::gelu_forward(orf, x, bias ? b.view() : core::TensorView{});
    // No reduction: a few roundings (bias add, scale, erff's ~1-2 ulp, two products) relative to |x| ~ 3.
    test::expect_close(o.f32(), orf.f64(), o.numel(), 1, 3.0, "gelu", 8.0);
  }
}

TEST(Gelu, KnownValuesAndInPlace) {
  core::ThreadPool pool(1);
  core::Tensor x = core::Tensor::from_f32({1, 4}, std::vector<float>{0.0f, 1.0f, -1.0f, 10.0f});
  ops::gelu_forward(pool, x, x);  // aliasing allowed
  EXPECT_EQ(x.f32()[0], 0.0f);
  EXPECT_NEAR(x.f32()[1], 0.8413447460685429, 1e-7);   // Φ(1)
  EXPECT_NEAR(x.f32()[2], -0.15865525393145707, 1e-7);  // −(1 − Φ(1))
  EXPECT_EQ(x.f32()[3], 10.0f);
}

}  // namespace
}  // namespace llamba
