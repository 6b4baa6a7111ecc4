// attention cpu vs reference: GQA, a cache with n_past > 0, probabilities output.
#include "ops/attention.h"

#include "op_test_util.h"

namespace llamba {
namespace {

TEST(Attention, MatchesReferenceWithCacheAndGqa) {
  const int64_t T = 5, n_past = 7, Hq = 6, Hkv = 2, hd = 16, S = n_past + T;
  core::Rng rng(3);
  core::Tensor q = test::rand_tensor(rng, {T, Hq, hd}), k = test::rand_tensor(rng, {S + 3, Hkv, hd}),
               v = test::rand_tensor(rng, {S + 3, Hkv, hd});
  core::Tensor o = core::Tensor::zeros(core::DType::kF32, {T, Hq, hd}), orf = core::Tensor::zeros(core::DType::kF64, {T, Hq, hd});
  core::Tensor p = core::Tensor::zeros(core::DType::kF32, {Hq, T, S}), pr = core::Tensor::zeros(core::DType::kF64, {Hq, T, S});
  core::ThreadPool pool(2);
  ops::attention_forward(pool, o, q, k, v, n_past, 0.25f, p);
  ops::ref::attention_forward(orf, q, k, v, n_past, 0.25, pr);
  test::expect_close(o.f32(), orf.f64(), o.numel(), S * hd, 1.0, "attention out");
  test::expect_close(p.f32(), pr.f64(), p.numel(), S * hd, 1.0, "attention probs");
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t t = 0; t < T; ++t) {
      double sum = 0;
      for (int64_t s = 0; s < S; ++s) {
        sum += p.f32()[(h * T + t) * S + s];
        if (s > n_past + t) EXPECT_EQ(p.f32()[(h * T + t) * S + s], 0.0f) << "causal mask";
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
}

}  // namespace
}  // namespace llamba
