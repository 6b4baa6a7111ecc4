// CUDA ops the models' forward added (issue 16 item 2): the elementwise ops and the gated recurrence's forward
// (real gates, the recurrent loop over T steps from a carried state), against the CPU ops on random inputs with
// strided rows, outputs poisoned with NaN. Skips without a GPU. Bounds: kEpsF32 = 2^-23 (one ulp relative).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "op_test_util.h"
#include "ops/cuda/cuda.h"
#include "ops/elementwise.h"
#include "ops/gated_recurrence.h"
#include "ops/memory.h"

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

}  // namespace
}  // namespace llamba
