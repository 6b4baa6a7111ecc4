// attention cpu vs reference: GQA, a cache with n_past > 0, probabilities output. Backward: ref vs complex step
// (GQA, cache, an unseen cache row), cpu vs ref for decode and prefill shapes, accumulation.
#include "ops/attention.h"

#include "grad_check.h"
#include "ops/ref/attention_impl.h"

namespace llamba {
namespace {

TEST(Attention, MatchesReferenceWithCacheAndGqa) {
  const int64_t T = 5, n_past = 7, Hq = 6, Hkv = 2, hd = 16, S = n_past + T;
  core::Rng rng(3);
  core::Tensor q = test::rand_tensor(rng, {T, Hq, hd}), k = test::rand_tensor(rng, {S + 3, Hkv, hd}),
               v = test::rand_tensor(rng, {S + 3, Hkv, hd});
  core::Tensor o = core::Tensor::zeros(core::DType::kF32, {T, Hq, hd}), orf = core::Tensor::zeros(core::DType::kF64, {T, Hq, hd});
  core::Tensor p = core::Tensor::zeros(core::DType::kF32, {Hq, T, S}), pr = core::Tensor::zeros(core::DType::kF64, {Hq, T, S});
  ops::Context ctx(2);
  ops::attention_forward(ctx, o, q, k, v, n_past, 0.25f, p);
  ops::ref::attention_forward(orf, q, k, v, n_past, 0.25, pr);
  test::expect_close(o.f32(), orf.f64(), o.numel(), S * hd, 1.0, "attention out");
  test::expect_close(p.f32(), pr.f64(), p.numel(), S * hd, 1.0, "attention probs");
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t t = 0; t < T; ++t) {
      double sum = 0;
      for (int64_t s = 0; s < S; ++s) {
        sum += p.f32()[(h * T + t) * S + s];
        if (s > n_past + t) {
          EXPECT_EQ(p.f32()[(h * T + t) * S + s], 0.0f) << "causal mask";
        }
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
}

TEST(AttentionBackward, RefMatchesComplexStep) {
  const int64_t T = 3, n_past = 2, Hq = 4, Hkv = 2, hd = 5, Sk = n_past + T + 1;  // the last cache row is unseen
  const double scale = 0.45;
  core::Rng rng(7);
  const auto q = test::randn64(rng, T * Hq * hd), k = test::randn64(rng, Sk * Hkv * hd),
             v = test::randn64(rng, Sk * Hkv * hd), r = test::randn64(rng, T * Hq * hd);
  test::Pack p;
  const size_t iq = p.add(q), ik = p.add(k), iv = p.add(v);
  const ops::ref::impl::AttnDims d{T, Hq, Hkv, hd, n_past};
  const auto num = test::complex_step_grad(p.x, [&](const std::vector<test::cd>& x) {
    std::vector<test::cd> out(T * Hq * hd);
    ops::ref::impl::attention_forward<test::cd>(out.data(), nullptr, 0, p.at(x, iq), p.at(x, ik), p.at(x, iv), d,
                                                scale);
    return test::weighted_sum(r, out);
  });
  core::Tensor dq = test::zeros64({T, Hq, hd}), dk = test::zeros64({Sk, Hkv, hd}), dv = test::zeros64({Sk, Hkv, hd});
  ops::ref::attention_backward(dq, dk, dv, test::tensor64({T, Hq, hd}, r), test::tensor64({T, Hq, hd}, q),
                               test::tensor64({Sk, Hkv, hd}, k), test::tensor64({Sk, Hkv, hd}, v), n_past, scale);
  // Softmax over <= 6 keys and dots of 5: exact to rounding; 1e-12 leaves margin.
  test::expect_grad_near(test::values(dq), p.part(num, iq), 1e-12, "attention dq (complex step)");
  test::expect_grad_near(test::values(dk), p.part(num, ik), 1e-12, "attention dk (complex step)");
  test::expect_grad_near(test::values(dv), p.part(num, iv), 1e-12, "attention dv (complex step)");
  for (int64_t i = (Sk - 1) * Hkv * hd; i < Sk * Hkv * hd; ++i) EXPECT_EQ(dk.f64()[i] + dv.f64()[i], 0.0);
}

TEST(AttentionBackward, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t T, n_past, Hq, Hkv, hd;
  };
  for (const Case& cs : {Case{1, 0, 1, 1, 1}, Case{1, 40, 6, 2, 16}, Case{64, 0, 6, 2, 16}, Case{7, 9, 3, 3, 33},
                         Case{33, 5, 4, 1, 8}}) {
    const int64_t T = cs.T, Hq = cs.Hq, Hkv = cs.Hkv, hd = cs.hd, Sk = cs.n_past + T + 2;
    SCOPED_TRACE(testing::Message() << "T=" << T << " n_past=" << cs.n_past << " Hq=" << Hq << " Hkv=" << Hkv
                                    << " hd=" << hd);
    core::Rng rng(T * 5 + hd);
    core::Tensor q = test::rand_tensor(rng, {T, Hq, hd}), k = test::rand_tensor(rng, {Sk, Hkv, hd}),
                 v = test::rand_tensor(rng, {Sk, Hkv, hd}), dout = test::rand_tensor(rng, {T, Hq, hd});
    const float scale = 1.0f / std::sqrt((float)hd);
    core::Tensor dq = test::zeros32({T, Hq, hd}), dk = test::zeros32({Sk, Hkv, hd}), dv = test::zeros32({Sk, Hkv, hd});
    core::Tensor dqr = test::zeros64({T, Hq, hd}), dkr = test::zeros64({Sk, Hkv, hd}), dvr = test::zeros64({Sk, Hkv, hd});
    ops::Context ctx(3);
    ops::attention_backward(ctx, dq, dk, dv, dout, q, k, v, cs.n_past, scale);
    ops::ref::attention_backward(dqr, dkr, dvr, dout, q, k, v, cs.n_past, (double)scale);
    // dq: Σ over <= S keys of P·(dP − δ)·scale·k, with dP an hd-term dot (~sqrt(hd)); dk similarly over the
    // queries of a group; dv: Σ over queries of P·dout. Probabilities carry ~eps·|score| relative error.
    const int64_t S = cs.n_past + T, group = Hq / Hkv;
    test::expect_f32_grad(dq, dqr, S, std::sqrt((double)hd) * scale, "attention dq");
    test::expect_f32_grad(dk, dkr, T * group, std::sqrt((double)hd) * scale, "attention dk");
    test::expect_f32_grad(dv, dvr, T * group, 1.0, "attention dv");
    const auto dq1 = test::values(dq), dk1 = test::values(dk), dv1 = test::values(dv);
    ops::attention_backward(ctx, dq, {}, dv, dout, q, k, v, cs.n_past, scale);
    ops::attention_backward(ctx, {}, dk, {}, dout, q, k, v, cs.n_past, scale);
    test::expect_doubled(dq, dq1, "attention dq");
    test::expect_doubled(dk, dk1, "attention dk");
    test::expect_doubled(dv, dv1, "attention dv");
  }
}

}  // namespace
}  // namespace llamba
