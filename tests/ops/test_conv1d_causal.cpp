// conv1d_causal: cpu vs reference, both activations; state carried across calls equals one long call,
// including chunks shorter than the window.
#include "ops/conv1d_causal.h"

#include <cstring>

#include "op_test_util.h"

namespace llamba {
namespace {

TEST(Conv1dCausal, MatchesReferenceAndCarriesState) {
  const int64_t T = 11, C = 13, K = 4;
  for (auto act : {ops::ConvActivation::kIdentity, ops::ConvActivation::kSilu}) {
    core::Rng rng(4);
    core::Tensor x = test::rand_tensor(rng, {T, C}), w = test::rand_tensor(rng, {C, K}, 0.5),
                 b = test::rand_tensor(rng, {C});
    core::Tensor st = test::rand_tensor(rng, {K - 1, C});
    core::Tensor st_ref = core::Tensor::zeros(core::DType::kF64, {K - 1, C});
    for (int64_t i = 0; i < st.numel(); ++i) st_ref.f64()[i] = st.f32()[i];
    core::Tensor st0 = core::Tensor::copy_of(st);
    core::Tensor y = core::Tensor::zeros(core::DType::kF32, {T, C}), yr = core::Tensor::zeros(core::DType::kF64, {T, C});
    core::ThreadPool pool(2);
    ops::conv1d_causal_forward(pool, y, x, w, b, st, act);
    ops::ref::conv1d_causal_forward(yr, x, w, b, st_ref, act);
    test::expect_close(y.f32(), yr.f64(), y.numel(), K, 2.0, "conv");
    test::expect_close(st.f32(), st_ref.f64(), st.numel(), 1, 1.0, "conv state");
    // Same input in pieces of 1, 2 and 8 rows from the same initial state: bit-identical.
    core::Tensor y2 = core::Tensor::zeros(core::DType::kF32, {T, C});
    int64_t t = 0;
    for (int64_t n : {1, 2, 8}) {
      ops::conv1d_causal_forward(pool, y2.view().slice(0, t, t + n), x.view().slice(0, t, t + n), w, b, st0, act);
      t += n;
    }
    EXPECT_EQ(std::memcmp(y2.f32(), y.f32(), y.view().nbytes()), 0);
    EXPECT_EQ(std::memcmp(st0.f32(), st.f32(), st.view().nbytes()), 0);
  }
}

}  // namespace
}  // namespace llamba
