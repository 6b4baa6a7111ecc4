// swiglu cpu vs reference, with and without a gate bias.
#include "ops/swiglu.h"

#include "op_test_util.h"

namespace llamba {
namespace {

TEST(SwiGlu, MatchesReference) {
  core::Rng rng(5);
  core::Tensor g = test::rand_tensor(rng, {4, 37}, 4.0), u = test::rand_tensor(rng, {4, 37}), b = test::rand_tensor(rng, {37});
  for (bool bias : {false, true}) {
    core::Tensor o = core::Tensor::zeros(core::DType::kF32, {4, 37}), orf = core::Tensor::zeros(core::DType::kF64, {4, 37});
    core::ThreadPool pool(2);
    ops::swiglu_forward(pool, o, g, u, bias ? b.view() : core::TensorView{});
    ops::ref::swiglu_forward(orf, g, u, bias ? b.view() : core::TensorView{});
    test::expect_close(o.f32(), orf.f64(), o.numel(), 1, 4.0, "swiglu");
  }
}

}  // namespace
}  // namespace llamba
