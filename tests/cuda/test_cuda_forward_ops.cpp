// CUDA ops the models' forward added (issue 16 item 2): the elementwise ops and the gated recurrence's forward
// (real gates, the recurrent loop over T steps from a carried state), against the CPU ops on random inputs with
// strided rows, outputs poisoned with NaN; and the tensor-core linear of Gemm::kReduced against its rounding
// bound. Skips without a GPU. Bounds: kEpsF32 = 2^-23 (one ulp relative).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "op_test_util.h"
#include "ops/conv1d_causal.h"
#include "ops/cuda/cuda.h"
#include "ops/elementwise.h"
#include "ops/gated_recurrence.h"
#include "ops/linear.h"
#include "ops/memory.h"
#include "quant/quant.h"

namespace llamba {
namespace {

using core::DType;
using core::Tensor;
using core::TensorView;
using test::kEpsF32;

class CudaForward : public testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!ops::cuda::available(&why)) GTEST_SKIP() << "no usable CUDA device (" << why << "): CUDA tests need a GPU";
    gpu_ = std::make_unique<ops::Context>(ops::cuda::make_backend(0));
  }
  ops::Context& gpu() { return *gpu_; }
  std::vector<float> host(const TensorView& v) {
    const Tensor h = ops::to_host(*gpu_, v);
    return {h.f32(), h.f32() + h.numel()};
  }
  std::unique_ptr<ops::Context> gpu_;
  ops::Context cpu_{2};
};

std::vector<float> values(const TensorView& v) {
  const Tensor t = Tensor::copy_of(v);
  return {t.f32(), t.f32() + t.numel()};
}

TEST_F(CudaForward, ElementwiseOpsMatchTheCpu) {
  const int64_t M = 37, F = 96, W = F + 5;
  core::Rng rng(3);
  const Tensor x = test::rand_tensor(rng, {M, W}, 6.0), y0 = test::rand_tensor(rng, {M, W}), d = test::rand_tensor(rng, {8});
  const Tensor xd = ops::to_device(gpu(), x), dd = ops::to_device(gpu(), d);
  const auto cols = [&](const TensorView& t) { return t.slice(1, 2, 2 + F); };  // strided rows
  for (const std::string op : {"add_inplace", "neg_softplus", "skip_add"}) {
    Tensor yc = Tensor::copy_of(y0);
    Tensor yd = ops::to_device(gpu(), y0);
    if (op == "add_inplace") {
      ops::add_inplace(cpu_, cols(yc), cols(x));
      ops::add_inplace(gpu(), cols(yd), cols(xd));
    } else if (op == "neg_softplus") {
      ops::neg_softplus(cpu_, cols(yc), cols(x));
      ops::neg_softplus(gpu(), cols(yd), cols(xd));
    } else {
      ops::skip_add(cpu_, cols(yc), cols(x), d);
      ops::skip_add(gpu(), cols(yd), cols(xd), dd);
    }
    const std::vector<float> got = host(yd), want = values(yc);
    for (size_t i = 0; i < got.size(); ++i) {
      // add and skip_add: the CPU's roundings in its order (--fmad=false), bit for bit; −softplus: log1pf and
      // expf within 2 ulp each on the GPU, 1 on the host, so within 4 ulp of the result (which is >= the log term).
      const double bound = op == "neg_softplus" ? 4 * kEpsF32 * std::fabs(want[i]) : 0.0;
      ASSERT_LE(std::fabs(got[i] - want[i]), bound) << op << " element " << i;
    }
  }
}

TEST_F(CudaForward, RecurrenceForwardTracksTheCpuFromACarriedState) {
  struct Case {
    int64_t B, T, H, G, P, N;
    bool vector_gate;
  };
  for (const Case c : {Case{1, 1, 2, 1, 4, 8, false}, Case{2, 37, 4, 2, 16, 32, false}, Case{3, 70, 8, 1, 12, 64, false},
                       Case{2, 19, 4, 4, 8, 16, true}}) {
    SCOPED_TRACE(testing::Message() << "B=" << c.B << " T=" << c.T << " H=" << c.H << " N=" << c.N);
    core::Rng rng(c.T * 7 + c.N);
    const Tensor q = test::rand_tensor(rng, {c.B, c.T, c.G, c.N}), k = test::rand_tensor(rng, {c.B, c.T, c.G, c.N});
    const Tensor v = test::rand_tensor(rng, {c.B, c.T, c.H, c.P}), s0 = test::rand_tensor(rng, {c.B, c.H, c.P, c.N});
    Tensor g = c.vector_gate ? Tensor::zeros(DType::kF32, {c.B, c.T, c.H, c.N}) : Tensor::zeros(DType::kF32, {c.B, c.T, c.H});
    for (int64_t i = 0; i < g.numel(); ++i) g.f32()[i] = (float)(-0.6 * std::fabs(rng.normal()));
    const auto args = [&](const TensorView& q_, const TensorView& k_, const TensorView& v_, const TensorView& g_,
                          const TensorView& y, const TensorView& si, const TensorView& so) {
      ops::GatedRecurrenceArgs a;
      a.q = q_, a.k = k_, a.v = v_, a.log_decay = g_, a.y = y, a.state_in = si, a.state_out = so, a.scale = 0.25;
      return a;
    };
    Tensor yc = Tensor::zeros(DType::kF32, {c.B, c.T, c.H, c.P}), sc = Tensor::zeros(DType::kF32, s0.shape());
    ops::gated_recurrence_forward(cpu_, args(q, k, v, g, yc, s0, sc), ops::RecurrenceMode::kRecurrent);
    const Tensor qd = ops::to_device(gpu(), q), kd = ops::to_device(gpu(), k), vd = ops::to_device(gpu(), v),
                 gd = ops::to_device(gpu(), g), sd = ops::to_device(gpu(), s0);
    Tensor yd = ops::cuda::filled(gpu().cuda(), DType::kF32, yc.shape(), 0xFF);
    // In place (state_in = state_out), as the models call it; the chunked mode asked for runs the same loop.
    ops::gated_recurrence_forward(gpu(), args(qd, kd, vd, gd, yd, sd, sd), ops::RecurrenceMode::kChunked);
    const std::vector<float> s_gpu = host(sd), y_gpu = host(yd), s_cpu = values(sc), y_cpu = values(yc);
    // The state takes the CPU's roundings except where a gate's exp rounds the other way at a tie (one ulp of a),
    // each such step adding at most eps·|s|: after T steps within T·2·eps·max|s|.
    double max_s = 0;
    for (float x : s_cpu) max_s = std::max(max_s, (double)std::fabs(x));
    for (size_t i = 0; i < s_gpu.size(); ++i)
      ASSERT_LE(std::fabs(s_gpu[i] - s_cpu[i]), c.T * 2 * kEpsF32 * max_s) << "state " << i;
    // y = scale·Σ_n q·s summed in another order: N·eps·Σ|q|·|s| (both sums' roundings) plus the states' drift.
    double max_y = 0;
    for (size_t i = 0; i < y_gpu.size(); ++i) {
      ASSERT_TRUE(std::isfinite(y_gpu[i])) << "y " << i << " not written";
      max_y = std::max(max_y, (double)std::fabs(y_gpu[i] - y_cpu[i]));
    }
    const double q_max = 4.5;  // |q| of N(0, 1) draws, generously
    EXPECT_LE(max_y, 0.25 * c.N * q_max * max_s * (c.N * kEpsF32 + c.T * 2 * kEpsF32)) << "y vs cpu";
  }
}

// conv1d_causal over a batch of sequences with (B, K-1, C) states, strided rows: the CPU op's operations per
// (b, t, c) (identity: the same bits; SiLU: within 5 ulp, expf), decode (T = 1) and prefill.
TEST_F(CudaForward, BatchedConvMatchesTheCpu) {
  const int64_t B = 5, C = 40, K = 4;
  for (const int64_t T : {int64_t(1), int64_t(9)}) {
    for (const auto act : {ops::ConvActivation::kIdentity, ops::ConvActivation::kSilu}) {
      core::Rng rng(T * 3 + (int)act);
      const Tensor x = test::rand_tensor(rng, {B * T, C + 6}), w = test::rand_tensor(rng, {C, K}, 0.5);
      const Tensor bias = test::rand_tensor(rng, {C}), s0 = test::rand_tensor(rng, {B, K - 1, C});
      Tensor yc = Tensor::zeros(DType::kF32, {B * T, C}), sc = Tensor::copy_of(s0);
      ops::conv1d_causal_forward(cpu_, yc, x.view().slice(1, 0, C), w, bias, sc, act);
      const Tensor xd = ops::to_device(gpu(), x), wd = ops::to_device(gpu(), w), bd = ops::to_device(gpu(), bias);
      Tensor sd = ops::to_device(gpu(), s0), yd = ops::zeros(gpu(), DType::kF32, {B * T, C});
      ops::conv1d_causal_forward(gpu(), yd, xd.view().slice(1, 0, C), wd, bd, sd, act);
      const std::vector<float> y_gpu = host(yd), y_cpu = values(yc), s_gpu = host(sd), s_cpu = values(sc);
      for (size_t i = 0; i < y_gpu.size(); ++i) {
        const double bound = act == ops::ConvActivation::kSilu ? 5 * kEpsF32 * std::fabs(y_cpu[i]) : 0.0;
        ASSERT_LE(std::fabs(y_gpu[i] - y_cpu[i]), bound) << "T=" << T << " y " << i;
      }
      EXPECT_EQ(s_gpu, s_cpu) << "T=" << T << ": the state is a copy of input rows";
    }
  }
}

// Gemm::kReduced: more than 8 rows on tensor cores. Every product of decoded weights w and x is formed from
// rounded inputs and summed in fp32, so |y - y_exact| <= (r + K·2^-23)·S with S = Σ_k |x_k·w_k|: r = 2^-8 for bf16
// weights (x alone rounded to bf16, 8 significant bits, round to nearest); r = 2·2^-10 for TF32 (x and w each
// rounded to 11 significant bits, counted as truncation: 2^-10 each); K·2^-23 bounds any fp32 summation order,
// truncating accumulators included. The test also requires the error to exceed 2^-19·S somewhere, which fp32
// products (~2^-22·S here) never do, so a path that silently stayed fp32 fails; 8 rows keep the exact fused kernel.
TEST_F(CudaForward, ReducedPrecisionGemmIsWithinItsRoundingBound) {
  gpu().set_gemm(ops::Gemm::kReduced);
  const int64_t K = 2048, N = 384;
  for (const DType wt : {DType::kBF16, DType::kF32, DType::kQ8_0}) {
    for (const int64_t M : {int64_t(8), int64_t(64), int64_t(200)}) {
      SCOPED_TRACE(testing::Message() << core::dtype_name(wt) << " M=" << M);
      core::Rng rng(M + 17 * (int)wt);
      const int64_t ld = K + 4;  // strided rows of x
      const Tensor xb = test::rand_tensor(rng, {M, ld});
      const TensorView x = xb.view().slice(1, 0, K);
      const std::vector<float> wf = test::randn(rng, N * K, 0.05);
      Tensor w = Tensor::zeros(wt, {N, K});
      quant::quantize_row(wt, wf.data(), w.view().data, N * K);
      std::vector<float> wd(N * K);
      quant::dequantize_row(wt, w.view().data, wd.data(), N * K);
      const Tensor bias = test::rand_tensor(rng, {N});
      const Tensor xd = ops::to_device(gpu(), xb), w_dev = ops::to_device(gpu(), w), bd = ops::to_device(gpu(), bias);
      Tensor yd = ops::zeros(gpu(), DType::kF32, {M, N});
      ops::linear_forward(gpu(), yd, xd.view().slice(1, 0, K), w_dev, bd);
      const std::vector<float> got = host(yd);
      const double r = M <= 8 ? 0.0 : wt == DType::kBF16 ? std::ldexp(1.0, -8) : 2 * std::ldexp(1.0, -10);
      double worst = 0, largest = 0;  // of error / bound, and of error / S
      for (int64_t m = 0; m < M; ++m) {
        for (int64_t n = 0; n < N; ++n) {
          double exact = bias.f32()[n], S = 0;
          for (int64_t k = 0; k < K; ++k) {
            const double p = (double)x.f32()[m * ld + k] * wd[n * K + k];
            exact += p, S += std::fabs(p);
          }
          const double err = std::fabs(got[m * N + n] - exact);
          // The bias add rounds once more: half an ulp of the result.
          const double bound = (r + K * std::ldexp(1.0, -23)) * S + kEpsF32 * std::fabs(exact);
          worst = std::max(worst, err / bound), largest = std::max(largest, err / S);
        }
      }
      std::printf("%s M=%lld: worst error / bound %.3f, largest error / S 2^%.1f\n", core::dtype_name(wt),
                  (long long)M, worst, std::log2(largest));
      EXPECT_LE(worst, 1.0);
      if (M > 8) EXPECT_GT(largest, std::ldexp(1.0, -19)) << "the product did not run in reduced precision";
      if (M <= 8) EXPECT_LT(largest, std::ldexp(1.0, -19)) << "a few rows must keep fp32 products";
    }
  }
}

}  // namespace
}  // namespace llamba
