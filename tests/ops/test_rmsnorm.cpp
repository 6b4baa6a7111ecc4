// rmsnorm cpu vs double reference.
#include "ops/rmsnorm.h"

#include "op_test_util.h"

namespace llamba {
namespace {

TEST(RmsNorm, MatchesReference) {
  for (int64_t D : {1, 7, 64, 576}) {
    core::Rng rng(D);
    core::Tensor x = test::rand_tensor(rng, {5, D}, 3.0), w = test::rand_tensor(rng, {D});
    core::Tensor y = core::Tensor::zeros(core::DType::kF32, {5, D}), yr = core::Tensor::zeros(core::DType::kF64, {5, D});
    core::ThreadPool pool(2);
    ops::rmsnorm_forward(pool, y, x, w, 1e-5f);
    ops::ref::rmsnorm_forward(yr, x, w, 1e-5);
    test::expect_close(y.f32(), yr.f64(), 5 * D, D, 1.0, "rmsnorm");
    ops::rmsnorm_forward(pool, x, x, w, 1e-5f);  // in place
    test::expect_close(x.f32(), yr.f64(), 5 * D, D, 1.0, "rmsnorm in place");
  }
}

}  // namespace
}  // namespace llamba
