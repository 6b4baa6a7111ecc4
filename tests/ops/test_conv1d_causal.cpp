// conv1d_causal: cpu vs reference, both activations; state carried across calls equals one long call,
// including chunks shorter than the window; a batch of sequences with (B, K-1, C) states equals each alone. Backward: ref vs complex step (incl. state gradients), chunked
// backward through dstate_out equals one long backward, cpu vs ref, accumulation.
#include "ops/conv1d_causal.h"

#include <cstring>

#include "grad_check.h"
#include "ops/ref/conv1d_causal_impl.h"

namespace llamba {
namespace {

using ops::ConvActivation;

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
    ops::Context ctx(2);
    ops::conv1d_causal_forward(ctx, y, x, w, b, st, act);
    ops::ref::conv1d_causal_forward(yr, x, w, b, st_ref, act);
    test::expect_close(y.f32(), yr.f64(), y.numel(), K, 2.0, "conv");
    test::expect_close(st.f32(), st_ref.f64(), st.numel(), 1, 1.0, "conv state");
    // Same input in pieces of 1, 2 and 8 rows from the same initial state: bit-identical.
    core::Tensor y2 = core::Tensor::zeros(core::DType::kF32, {T, C});
    int64_t t = 0;
    for (int64_t n : {1, 2, 8}) {
      ops::conv1d_causal_forward(ctx, y2.view().slice(0, t, t + n), x.view().slice(0, t, t + n), w, b, st0, act);
      t += n;
    }
    EXPECT_EQ(std::memcmp(y2.f32(), y.f32(), y.view().nbytes()), 0);
    EXPECT_EQ(std::memcmp(st0.f32(), st.f32(), st.view().nbytes()), 0);
  }
}

// B sequences in one call (states (B, K-1, C), rows b·T ...) give each sequence's result alone, bit for bit: the
// same operations per (t, c). Strided rows; T = 1 is a decode step of B sequences; the reference likewise.
TEST(Conv1dCausal, BatchedStatesEqualEachSequenceAlone) {
  const int64_t B = 3, C = 13, K = 4;
  ops::Context ctx(2);
  for (const int64_t T : {int64_t(1), int64_t(5)}) {
    core::Rng rng(9 + T);
    core::Tensor xb = test::rand_tensor(rng, {B * T, C + 3}), w = test::rand_tensor(rng, {C, K}, 0.5),
                 b = test::rand_tensor(rng, {C});
    const core::TensorView x = xb.view().slice(1, 0, C);
    core::Tensor st = test::rand_tensor(rng, {B, K - 1, C}), st_alone = core::Tensor::copy_of(st);
    core::Tensor sr = core::Tensor::zeros(core::DType::kF64, {B, K - 1, C});
    for (int64_t i = 0; i < st.numel(); ++i) sr.f64()[i] = st.f32()[i];
    core::Tensor y = core::Tensor::zeros(core::DType::kF32, {B * T, C}), y1 = core::Tensor::zeros(core::DType::kF32, {B * T, C});
    ops::conv1d_causal_forward(ctx, y, x, w, b, st, ConvActivation::kSilu);
    for (int64_t s = 0; s < B; ++s)
      ops::conv1d_causal_forward(ctx, y1.view().slice(0, s * T, (s + 1) * T), x.slice(0, s * T, (s + 1) * T), w, b,
                                 st_alone.view().select(0, s), ConvActivation::kSilu);
    EXPECT_EQ(std::memcmp(y.f32(), y1.f32(), y.view().nbytes()), 0) << "T=" << T;
    EXPECT_EQ(std::memcmp(st.f32(), st_alone.f32(), st.view().nbytes()), 0) << "T=" << T;
    core::Tensor yr = core::Tensor::zeros(core::DType::kF64, {B * T, C});
    ops::ref::conv1d_causal_forward(yr, x, w, b, sr, ConvActivation::kSilu);
    test::expect_close(y.f32(), yr.f64(), y.numel(), K, 2.0, "batched conv vs ref");
    test::expect_close(st.f32(), sr.f64(), st.numel(), 1, 1.0, "batched conv state vs ref");
  }
  core::Tensor x = core::Tensor::zeros(core::DType::kF32, {7, C}), y = core::Tensor::zeros(core::DType::kF32, {7, C});
  core::Tensor st = core::Tensor::zeros(core::DType::kF32, {2, K - 1, C});
  core::Tensor w = core::Tensor::zeros(core::DType::kF32, {C, K});
  EXPECT_THROW(ops::conv1d_causal_forward(ctx, y, x, w, {}, st, ConvActivation::kSilu), Error);  // 7 rows, 2 sequences
}

TEST(Conv1dCausalBackward, RefMatchesComplexStep) {
  const int64_t C = 3, K = 4;
  for (int64_t T : {1, 2, 7}) {
    for (auto act : {ConvActivation::kIdentity, ConvActivation::kSilu}) {
      SCOPED_TRACE(testing::Message() << "T=" << T << " silu=" << (act == ConvActivation::kSilu));
      core::Rng rng(T * 2 + (act == ConvActivation::kSilu));
      const auto x = test::randn64(rng, T * C), w = test::randn64(rng, C * K, 0.5), b = test::randn64(rng, C),
                 s0 = test::randn64(rng, (K - 1) * C), ry = test::randn64(rng, T * C),
                 rs = test::randn64(rng, (K - 1) * C);
      test::Pack p;
      const size_t ix = p.add(x), iw = p.add(w), ib = p.add(b), is = p.add(s0);
      // L = Σ ry ⊙ y + Σ rs ⊙ state_out: the outgoing state is an output too.
      const auto num = test::complex_step_grad(p.x, [&](const std::vector<test::cd>& v) {
        std::vector<test::cd> y(T * C), st(p.at(v, is), p.at(v, is) + (K - 1) * C);
        ops::ref::impl::conv1d_causal_forward(y.data(), st.data(), p.at(v, ix), p.at(v, iw), p.at(v, ib), T, C, K,
                                              act == ConvActivation::kSilu);
        return test::weighted_sum(ry, y) + test::weighted_sum(rs, st);
      });
      core::Tensor dx = test::zeros64({T, C}), dw = test::zeros64({C, K}), db = test::zeros64({C}),
                   ds = test::zeros64({K - 1, C});
      ops::ref::conv1d_causal_backward(dx, dw, db, ds, test::tensor64({T, C}, ry), test::tensor64({T, C}, x),
                                       test::tensor64({C, K}, w), test::tensor64({C}, b),
                                       test::tensor64({K - 1, C}, s0), act, test::tensor64({K - 1, C}, rs));
      // Sums of <= K products plus one exp: exact to rounding; 1e-12 leaves margin.
      test::expect_grad_near(test::values(dx), p.part(num, ix), 1e-12, "conv dx (complex step)");
      test::expect_grad_near(test::values(dw), p.part(num, iw), 1e-12, "conv dw (complex step)");
      test::expect_grad_near(test::values(db), p.part(num, ib), 1e-12, "conv dbias (complex step)");
      test::expect_grad_near(test::values(ds), p.part(num, is), 1e-12, "conv dstate_in (complex step)");
    }
  }
}

// Backward of A‖B in one call equals backward of B (into dstate_in_B), then of A with dstate_out = dstate_in_B.
TEST(Conv1dCausalBackward, ChunkedEqualsWhole) {
  const int64_t C = 5, K = 4, Ta = 2, Tb = 6, T = Ta + Tb;  // Ta < K - 1: the window spans the boundary
  core::Rng rng(9);
  core::Tensor x = test::tensor64({T, C}, test::randn64(rng, T * C)), w = test::tensor64({C, K}, test::randn64(rng, C * K)),
               b = test::tensor64({C}, test::randn64(rng, C)), s0 = test::tensor64({K - 1, C}, test::randn64(rng, (K - 1) * C)),
               dy = test::tensor64({T, C}, test::randn64(rng, T * C));
  const auto act = ConvActivation::kSilu;
  core::Tensor dx = test::zeros64({T, C}), dw = test::zeros64({C, K}), ds = test::zeros64({K - 1, C});
  ops::ref::conv1d_causal_backward(dx, dw, {}, ds, dy, x, w, b, s0, act);
  // Chunks: the state before B is the forward's state after A.
  core::Tensor sa = core::Tensor::copy_of(s0), ya = test::zeros64({Ta, C});
  ops::ref::conv1d_causal_forward(ya, x.view().slice(0, 0, Ta), w, b, sa, act);
  core::Tensor dx2 = test::zeros64({T, C}), dw2 = test::zeros64({C, K}), dsb = test::zeros64({K - 1, C}),
               ds2 = test::zeros64({K - 1, C});
  ops::ref::conv1d_causal_backward(dx2.view().slice(0, Ta, T), dw2, {}, dsb, dy.view().slice(0, Ta, T),
                                   x.view().slice(0, Ta, T), w, b, sa, act);
  ops::ref::conv1d_causal_backward(dx2.view().slice(0, 0, Ta), dw2, {}, ds2, dy.view().slice(0, 0, Ta),
                                   x.view().slice(0, 0, Ta), w, b, s0, act, dsb);
  // Same sums in another order: agreement to a few eps64.
  test::expect_grad_near(test::values(dx2), test::values(dx), 1e-13, "conv chunked dx");
  test::expect_grad_near(test::values(dw2), test::values(dw), 1e-13, "conv chunked dw");
  test::expect_grad_near(test::values(ds2), test::values(ds), 1e-13, "conv chunked dstate_in");
}

TEST(Conv1dCausalBackward, CpuMatchesRefAndAccumulates) {
  struct Case {
    int64_t T, C, K;
    bool strided, state, dstate_out;
  };
  for (const Case& cs : {Case{1, 1, 4, false, true, true}, Case{1, 64, 4, false, true, false},  // decode
                         Case{2, 31, 4, true, true, true}, Case{33, 33, 4, true, false, false},
                         Case{512, 48, 4, false, true, true}, Case{9, 7, 1, false, false, false}}) {
    for (auto act : {ConvActivation::kIdentity, ConvActivation::kSilu}) {
      const int64_t T = cs.T, C = cs.C, K = cs.K, ld = cs.strided ? C + 3 : C;
      SCOPED_TRACE(testing::Message() << "T=" << T << " C=" << C << " K=" << K << " silu=" << (act == ConvActivation::kSilu));
      core::Rng rng(T * 17 + C);
      core::Tensor xb = test::rand_tensor(rng, {T, ld}), dyb = test::rand_tensor(rng, {T, ld}),
                   w = test::rand_tensor(rng, {C, K}, 0.5), b = test::rand_tensor(rng, {C}),
                   s0 = test::rand_tensor(rng, {K - 1, C}), dso = test::rand_tensor(rng, {K - 1, C});
      const core::TensorView x = xb.view().slice(1, 0, C), dy = dyb.view().slice(1, 0, C);
      const core::TensorView st = cs.state ? s0.view() : core::TensorView{};
      const core::TensorView dsout = cs.dstate_out ? dso.view() : core::TensorView{};
      core::Tensor dxb = test::zeros32({T, ld}), dw = test::zeros32({C, K}), db = test::zeros32({C}),
                   ds = test::zeros32({K - 1, C});
      const core::TensorView dx = dxb.view().slice(1, 0, C);
      core::Tensor dxr = test::zeros64({T, C}), dwr = test::zeros64({C, K}), dbr = test::zeros64({C}),
                   dsr = test::zeros64({K - 1, C});
      ops::Context ctx(3);
      ops::conv1d_causal_backward(ctx, dx, dw, db, ds, dy, x, w, b, st, act, dsout);
      ops::ref::conv1d_causal_backward(dxr, dwr, dbr, dsr, dy, x, w, b, st, act, dsout);
      const core::Tensor dxc = core::Tensor::copy_of(dx);
      // dx, dstate_in: K products of |w|~0.5 by |ds|~1 (+ dstate_out); dw, dbias: T-term sums of |ds|·|x| ~ 1.
      test::expect_f32_grad(dxc, dxr, K, 1.0, "conv dx");
      test::expect_f32_grad(ds, dsr, K, 1.0, "conv dstate_in");
      test::expect_f32_grad(dw, dwr, T, std::sqrt((double)T), "conv dw");
      test::expect_f32_grad(db, dbr, T, std::sqrt((double)T), "conv dbias");
      const auto dx1 = test::values(dxc), dw1 = test::values(dw), db1 = test::values(db), ds1 = test::values(ds);
      ops::conv1d_causal_backward(ctx, dx, {}, {}, {}, dy, x, w, b, st, act, dsout);
      ops::conv1d_causal_backward(ctx, {}, dw, db, ds, dy, x, w, b, st, act, dsout);
      test::expect_doubled(core::Tensor::copy_of(dx), dx1, "conv dx");
      test::expect_doubled(dw, dw1, "conv dw");
      test::expect_doubled(db, db1, "conv dbias");
      test::expect_doubled(ds, ds1, "conv dstate_in");
    }
  }
}

}  // namespace
}  // namespace llamba
