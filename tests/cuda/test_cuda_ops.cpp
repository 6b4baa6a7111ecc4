// CUDA ops (ops/cuda) against the CPU ops and the fp64 references, on random inputs with odd sizes, strided rows
// and outputs poisoned with NaN (so an element the kernel never writes fails); device memory and views; errors
// naming the op. Every test skips, saying why, where no GPU can be used (CI, the dev machines).
// Tolerances: kEpsF32 = 2^-23 (one ulp relative), a rounding is at most eps/2 relative. Each check says where
// its bound comes from; "bit for bit" where the kernel performs the CPU op's roundings in its order (the layer is
// built with --fmad=false, the CPU with -ffp-contract=off).
// Past the 500-line soft cap: one binary keeps the GPU bundle simple (tests/cuda/make_bundle.sh); the next op's
// tests go to a second file, with the fixture and helpers moved to tests/cuda/cuda_test_util.h.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "op_test_util.h"
#include "ops/conv1d_causal.h"
#include "ops/cuda/cuda.h"
#include "ops/embedding.h"
#include "ops/gated_recurrence.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "ops/swiglu.h"
#include "quant/quant.h"

namespace llamba {
namespace {

using core::DType;
using core::Tensor;
using core::TensorView;
using test::kEpsF32;

class Cuda : public testing::Test {
 protected:
  static void TearDownTestSuite() { ctx_.reset(); }
  void SetUp() override {
    std::string why;
    if (!ops::cuda::available(&why)) GTEST_SKIP() << "no usable CUDA device (" << why << "): CUDA tests need a GPU";
    if (!ctx_) ctx_ = std::make_unique<ops::Context>(ops::cuda::make_backend(0));
  }
  ops::Context& ctx() { return *ctx_; }
  Tensor dev(const TensorView& host) { return ops::cuda::to_device(*ctx_, host); }
  Tensor host(const TensorView& d) { return ops::cuda::to_host(*ctx_, d); }
  // A device tensor of NaNs (every byte 0xFF), for outputs the kernel must overwrite completely.
  Tensor poisoned(const core::Shape& s) { return ops::cuda::filled(ctx_->cuda(), DType::kF32, s, 0xFF); }

  static std::unique_ptr<ops::Context> ctx_;
};
std::unique_ptr<ops::Context> Cuda::ctx_;

// Runs `fn`, expecting llamba::Error whose message contains every one of `parts`.
template <class Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

// The values of a (possibly strided) host view, packed.
std::vector<float> values(const TensorView& v) {
  const Tensor t = Tensor::copy_of(v);
  return std::vector<float>(t.f32(), t.f32() + t.numel());
}
std::vector<double> values64(const Tensor& t) { return std::vector<double>(t.f64(), t.f64() + t.numel()); }

// Elements whose bits differ.
int64_t count_bit_differences(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  int64_t n = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
  return n;
}

// |got - ref| <= rtol·|ref| + atol for every element (NaN never passes); reports the worst.
template <class R>
void expect_within(const std::vector<float>& got, const std::vector<R>& ref, double rtol, double atol,
                   const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  const test::Compare c = test::compare(got.data(), ref.data(), (int64_t)got.size(), atol, rtol);
  EXPECT_TRUE(c.ok) << what << ": worst element " << c.worst << " got " << got[c.worst] << " ref "
                    << (double)ref[c.worst] << " (max abs err " << c.max_abs << ", rtol " << rtol << ", atol " << atol
                    << ")";
}

// ---------------------------------------------------------------------------------------------------------------
// Device memory and views

TEST_F(Cuda, TensorsRoundTripAndViewsKeepTheirDevice) {
  core::Rng rng(1);
  Tensor h = test::rand_tensor(rng, {7, 13});
  Tensor d = dev(h);
  EXPECT_EQ(d.view().device, core::Device::kCuda);
  EXPECT_EQ(d.buffer()->device(), core::Device::kCuda);
  EXPECT_EQ(d.buffer()->kind(), core::Buffer::Kind::kExternal);
  EXPECT_EQ(count_bit_differences(values(host(d)), values(h)), 0);
  // Views of a device view stay on the device; a strided one (columns 2..9) copies back row by row.
  EXPECT_EQ(d.view().slice(1, 2, 9).device, core::Device::kCuda);
  EXPECT_EQ(d.view().select(0, 3).device, core::Device::kCuda);
  EXPECT_EQ(d.view().reshape({13, 7}).device, core::Device::kCuda);
  EXPECT_EQ(count_bit_differences(values(host(d.view().slice(1, 2, 9))), values(h.view().slice(1, 2, 9))), 0);
  // A strided host view is packed on its way up.
  EXPECT_EQ(count_bit_differences(values(host(dev(h.view().slice(1, 1, 4)))), values(h.view().slice(1, 1, 4))), 0);
  // Host-only operations refuse device memory instead of reading it.
  expect_error([&] { Tensor::copy_of(d); }, {"copy_of", "cuda"});
  expect_error([&] { dev(d); }, {"to_device", "cuda"});
  expect_error([&] { host(h); }, {"to_host", "cpu"});
  Tensor z = ops::cuda::filled(ctx().cuda(), DType::kF32, {0, 4}, 0);  // empty tensors are fine
  EXPECT_EQ(host(z).numel(), 0);
}

TEST_F(Cuda, DispatchChecksDevicesShapesAndKernels) {
  Tensor x = Tensor::zeros(DType::kF32, {2, 4}), w = Tensor::zeros(DType::kF32, {4});
  Tensor xd = dev(x), wd = dev(w);
  // A host tensor handed to a CUDA context, and a device tensor to a CPU context.
  expect_error([&] { ops::rmsnorm_forward(ctx(), xd, x, wd, 1e-5f); }, {"[rmsnorm_forward]", "cpu", "cuda"});
  ops::Context cpu(1);
  expect_error([&] { ops::rmsnorm_forward(cpu, x, xd, w, 1e-5f); }, {"[rmsnorm_forward]", "cuda", "cpu"});
  // Wrong shapes throw on the CUDA path as on the CPU one, naming the op and the shapes.
  Tensor w35 = dev(Tensor::zeros(DType::kF32, {3, 5})), y23 = dev(Tensor::zeros(DType::kF32, {2, 3}));
  expect_error([&] { ops::linear_forward(ctx(), y23, xd, w35); }, {"[linear_forward]", "(2, 4)", "(3, 5)"});
  Tensor w5 = dev(Tensor::zeros(DType::kF32, {5}));
  expect_error([&] { ops::rmsnorm_forward(ctx(), xd, xd, w5, 1e-5f); }, {"[rmsnorm_forward]", "(5,)"});
  Tensor g3 = dev(Tensor::zeros(DType::kF32, {2, 3}));
  expect_error([&] { ops::swiglu_forward(ctx(), xd, g3, xd); }, {"[swiglu_forward]", "(2, 3)"});
  const std::vector<int64_t> pos = {0};
  const auto inv = ops::rope_inv_freq(4, 10000.0);
  Tensor q = dev(Tensor::zeros(DType::kF32, {2, 1, 4}));
  expect_error([&] { ops::rope_forward(ctx(), q, pos, inv, ops::RopeStyle::kHalf); }, {"[rope_forward]", "1 positions"});
  Tensor st = dev(Tensor::zeros(DType::kF32, {2, 4})), cw = dev(Tensor::zeros(DType::kF32, {4, 4}));
  Tensor cy = dev(Tensor::zeros(DType::kF32, {2, 4}));
  expect_error([&] { ops::conv1d_causal_forward(ctx(), cy, xd, cw, {}, st, ops::ConvActivation::kSilu); },
               {"[conv1d_causal_forward]", "state (2, 4)"});
  // Ids are checked on the host before anything is read.
  Tensor table = dev(Tensor::zeros(DType::kF32, {3, 4})), out = dev(Tensor::zeros(DType::kF32, {1, 4}));
  const std::vector<int32_t> bad = {3};
  expect_error([&] { ops::embedding_forward(ctx(), out, table, bad); }, {"token id 3", "[0, 3)"});
  // Types without a CUDA kernel, and ops without one (the backwards), say so.
  Tensor wq = Tensor::zeros(DType::kQ5_0, {3, 32});
  Tensor wqd = dev(wq), x32 = dev(Tensor::zeros(DType::kF32, {2, 32}));
  expect_error([&] { ops::linear_forward(ctx(), y23, x32, wqd); }, {"[linear_forward]", "q5_0"});
  expect_error([&] { ops::rmsnorm_backward(ctx(), xd, wd, xd, xd, wd, 1e-5f); },
               {"[rmsnorm_backward]", "no kernel", "cuda"});
  expect_error([&] { ops::cuda::to_host(cpu, xd); }, {"not on a CUDA backend"});
}

// ---------------------------------------------------------------------------------------------------------------
// rmsnorm

TEST_F(Cuda, RmsNormMatchesReferenceAndCpu) {
  struct Case {
    int64_t M, D;
    bool strided;
  };
  for (const Case& cs : {Case{1, 1, false}, Case{5, 7, true}, Case{3, 64, false}, Case{300, 576, true},
                         Case{4, 2048, false}, Case{2, 4099, true}}) {
    SCOPED_TRACE(testing::Message() << "M=" << cs.M << " D=" << cs.D << (cs.strided ? " strided" : ""));
    const int64_t M = cs.M, D = cs.D, ld = cs.strided ? D + 3 : D;
    core::Rng rng(M * 1000 + D);
    Tensor xb = test::rand_tensor(rng, {M, ld}, 3.0), w = test::rand_tensor(rng, {D});
    const TensorView x = xb.view().slice(1, 0, D);
    const float eps = 1e-5f;
    Tensor xd_b = dev(xb), wd = dev(w), yd_b = poisoned({M, ld});
    const TensorView xd = xd_b.view().slice(1, 0, D), yd = yd_b.view().slice(1, 0, D);
    ops::rmsnorm_forward(ctx(), yd, xd, wd, eps);
    const std::vector<float> got = values(host(yd));
    Tensor yr = Tensor::zeros(DType::kF64, {M, D}), yc = Tensor::zeros(DType::kF32, {M, D});
    ops::ref::rmsnorm_forward(yr, x, w, eps);
    ops::Context cpu(2);
    ops::rmsnorm_forward(cpu, yc, x, w, eps);
    // y = w·(x·r) is a product, so its error is relative per element. The GPU's sum of squares runs through chains
    // of at most n = ceil(D / threads) + 10 additions (a strided partial per thread, two 5-level butterflies); with
    // the squares' roundings |Δss| <= (n + 1)·(eps/2)·ss. r = 1/sqrt(ss/D + eps) takes half of that, plus four
    // roundings (/D, +eps, sqrt, 1/·), and y two more: rtol = ((n + 1)/4 + 3)·eps. The threads (32/128/256) follow D
    // as in the kernel; taking 32 bounds them all.
    const double n = std::ceil((double)D / 32) + 10;
    const double rtol = ((n + 1) / 4 + 3) * kEpsF32;
    expect_within(got, values64(yr), rtol, 1e-30, "rmsnorm vs ref");
    // The CPU sums D squares in order (chains of D), so GPU vs CPU adds the CPU's own bound.
    expect_within(got, values(yc), rtol + ((D + 1) / 4.0 + 3) * kEpsF32, 1e-30, "rmsnorm vs cpu");
    // In place: y aliases x.
    ops::rmsnorm_forward(ctx(), xd, xd, wd, eps);
    EXPECT_EQ(count_bit_differences(values(host(xd)), got), 0) << "in place";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// swiglu

TEST_F(Cuda, SwigluMatchesReferenceAndCpu) {
  for (bool bias : {false, true})
    for (auto [M, F] : {std::pair<int64_t, int64_t>{1, 1}, {3, 37}, {64, 1536}, {5, 4097}}) {
      SCOPED_TRACE(testing::Message() << "M=" << M << " F=" << F << (bias ? " bias" : ""));
      const int64_t ld = F + 2;  // strided rows
      core::Rng rng(M * 31 + F + bias);
      Tensor gb = test::rand_tensor(rng, {M, ld}, 3.0), ub = test::rand_tensor(rng, {M, ld}),
             b = test::rand_tensor(rng, {F});
      const TensorView g = gb.view().slice(1, 0, F), u = ub.view().slice(1, 0, F);
      Tensor gd_b = dev(gb), ud_b = dev(ub), bd = dev(b), od_b = poisoned({M, ld});
      const TensorView gd = gd_b.view().slice(1, 0, F), ud = ud_b.view().slice(1, 0, F),
                       od = od_b.view().slice(1, 0, F);
      ops::swiglu_forward(ctx(), od, gd, ud, bias ? bd.view() : TensorView{});
      const std::vector<float> got = values(host(od));
      Tensor orf = Tensor::zeros(DType::kF64, {M, F}), oc = Tensor::zeros(DType::kF32, {M, F});
      ops::ref::swiglu_forward(orf, g, u, bias ? b.view() : TensorView{});
      ops::Context cpu(2);
      ops::swiglu_forward(cpu, oc, g, u, bias ? b.view() : TensorView{});
      // out = a·σ(a)·u. a = g + bias rounds (eps/2 relative), which moves out by (eps/2)·|1 + a·σ(-a)| <=
      // (eps/2)(1 + |a|). expf is within 2 ulp (CUDA's table; glibc's within 1), which moves σ by as much
      // relative; 1 + e, the division and the product round once each. So rtol = (3.5 + (1 + max|a|)/2)·eps.
      double max_a = 0;
      const std::vector<float> gv = values(g);
      for (int64_t i = 0; i < M * F; ++i) max_a = std::max(max_a, std::fabs((double)gv[i] + (bias ? b.f32()[i % F] : 0)));
      const double rtol = (3.5 + (1 + max_a) / 2) * kEpsF32;
      expect_within(got, values64(orf), rtol, 1e-30, "swiglu vs ref");
      expect_within(got, values(oc), 2 * rtol, 1e-30, "swiglu vs cpu");
      // In place: out aliases gate.
      ops::swiglu_forward(ctx(), gd, gd, ud, bias ? bd.view() : TensorView{});
      EXPECT_EQ(count_bit_differences(values(host(gd)), got), 0) << "in place";
    }
}

// ---------------------------------------------------------------------------------------------------------------
// rope

TEST_F(Cuda, RopeMatchesCpuAndReference) {
  const int64_t T = 6, H = 5, hd = 64;
  const std::vector<int64_t> pos = {0, 1, 2, 8191, 131000, 7};
  for (int64_t rot : {64, 32})  // rot < hd: the last dims pass through untouched
    for (auto style : {ops::RopeStyle::kInterleaved, ops::RopeStyle::kHalf}) {
      SCOPED_TRACE(testing::Message() << "rot=" << rot << (style == ops::RopeStyle::kHalf ? " half" : " interleaved"));
      std::vector<float> factors(rot / 2, 1.0f);
      for (int64_t i = rot / 4; i < rot / 2; ++i) factors[i] = 8.0f;
      const auto inv = ops::rope_inv_freq(rot, 500000.0, factors);
      core::Rng rng(rot + (int)style);
      const int64_t lt = H * (hd + 4);  // strided tokens and heads
      Tensor xb = test::rand_tensor(rng, {T, H, hd + 4});
      const TensorView x = xb.view().slice(2, 0, hd);
      Tensor xd_b = dev(xb);
      const TensorView xd = xd_b.view().slice(2, 0, hd);
      ASSERT_EQ(xd.strides[0], lt);
      ops::rope_forward(ctx(), xd, pos, inv, style);
      const std::vector<float> got = values(host(xd)), in = values(x);
      Tensor xc = Tensor::copy_of(x);
      ops::Context cpu(2);
      ops::rope_forward(cpu, xc, pos, inv, style);
      Tensor xr = Tensor::zeros(DType::kF64, {T, H, hd});
      for (int64_t i = 0; i < xr.numel(); ++i) xr.f64()[i] = in[i];
      ops::ref::rope_forward(xr, pos, inv, style);
      // GPU vs CPU: the same fp32 angle; cos/sin in double (CUDA within 2 ulp of double, glibc within 1) rounded to
      // float agree unless the exact value lies within a few double ulps of a float rounding boundary, and then
      // differ by one float ulp; the rotation's roundings are the same. So every output is within
      // eps·(|x0| + |x1|) of the CPU's (bounding |x0| + |x1| by twice the row's largest |x|), and nearly all agree
      // bit for bit.
      const std::vector<float> cpu_v = values(xc);
      double max_x = 0;
      for (float v : in) max_x = std::max(max_x, (double)std::fabs(v));
      expect_within(got, cpu_v, 0, 2 * max_x * kEpsF32, "rope vs cpu");
      EXPECT_LE(count_bit_differences(got, cpu_v), (int64_t)got.size() / 100) << "rope: bits differing from cpu";
      // vs ref: the fp32 angle is off by up to pos·|inv|·eps/2 (0.008 rad at 131000, as transformers rounds it),
      // moving an output by that much times |x0| + |x1|; positions 0 and 1 only see rounding.
      expect_within(got, values64(xr), 0, 131000 * kEpsF32 * 2 * max_x + 1e-6, "rope vs ref");
      for (int64_t i = 0; i < 2 * H * hd; ++i) EXPECT_NEAR(got[i], xr.f64()[i], 1e-6) << i;
      // Untouched dims past 2·half.
      for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t j = rot; j < hd; ++j) {
            const int64_t i = (t * H + h) * hd + j;
            ASSERT_EQ(got[i], in[i]);
          }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// embedding

TEST_F(Cuda, EmbeddingEqualsCpuBitForBitForEveryTableType) {
  const int64_t V = 50, D = 96;
  const std::vector<int32_t> ids = {3, 0, 49, 3, 17, 17, 8};
  const int64_t T = (int64_t)ids.size();
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1}) {
    SCOPED_TRACE(core::dtype_name(dt));
    core::Rng rng((int)dt);
    const auto vals = test::randn(rng, V * D);
    Tensor table = Tensor::zeros(dt, {V, D});
    quant::quantize_row(dt, vals.data(), table.view().data, V * D);
    Tensor td = dev(table), od_b = poisoned({T, D + 5});
    const TensorView od = od_b.view().slice(1, 0, D);
    ops::embedding_forward(ctx(), od, td, ids);
    Tensor oc = Tensor::zeros(DType::kF32, {T, D}), orf = Tensor::zeros(DType::kF64, {T, D});
    ops::Context cpu(2);
    ops::embedding_forward(cpu, oc, table, ids);
    ops::ref::embedding_forward(orf, table, ids);
    const std::vector<float> got = values(host(od));
    // Decoding is one product (q·d) or product and sum (q·d + m) on both sides: the same floats.
    EXPECT_EQ(count_bit_differences(got, values(oc)), 0);
    expect_within(got, values64(orf), 0, 0, "embedding vs ref");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// linear

void check_linear(ops::Context& ctx, DType wt, int64_t M, int64_t K, int64_t N, bool bias,
                  bool strided) {
  SCOPED_TRACE(testing::Message() << core::dtype_name(wt) << " M=" << M << " K=" << K << " N=" << N
                                  << (bias ? " bias" : "") << (strided ? " strided" : ""));
  core::Rng rng(M * 131 + K * 7 + N + (int)wt);
  const int64_t ld = strided ? K + 5 : K, ldy = strided ? N + 3 : N;
  Tensor xb = test::rand_tensor(rng, {M, ld});
  const TensorView x = xb.view().slice(1, 0, K);
  const auto wf = test::randn(rng, N * K, 0.1);
  Tensor w = Tensor::zeros(wt, {N, K});
  quant::quantize_row(wt, wf.data(), w.view().data, N * K);
  Tensor b = bias ? test::rand_tensor(rng, {N}) : Tensor();
  Tensor xd_b = ops::cuda::to_device(ctx, xb), wd = ops::cuda::to_device(ctx, w);
  Tensor bd = bias ? ops::cuda::to_device(ctx, b) : Tensor();
  Tensor yd_b = ops::cuda::filled(ctx.cuda(), DType::kF32, {M, ldy}, 0xFF);
  const TensorView xd = xd_b.view().slice(1, 0, K), yd = yd_b.view().slice(1, 0, N);
  ops::linear_forward(ctx, yd, xd, wd, bias ? bd.view() : TensorView{});
  const std::vector<float> got = values(ops::cuda::to_host(ctx, yd));
  Tensor yr = Tensor::zeros(DType::kF64, {M, N}), yc = Tensor::zeros(DType::kF32, {M, N});
  ops::ref::linear_forward(yr, x, w, bias ? b.view() : TensorView{});
  ops::Context cpu(2);
  ops::linear_forward(cpu, yc, x, w, bias ? b.view() : TensorView{});
  // The weights decode exactly, so only the fp32 dot products of K terms differ from the reference (any
  // summation order: cuBLAS's, or the fused kernel's 32 lane chains of K/32 and a 5-level butterfly). With
  // |x| ~ 1, |w| ~ 0.1 a dot is ~0.1·sqrt(K) and its rounding error grows like eps·sqrt(K) of that: the op tests'
  // convention (test::expect_close, c = 4; op_test_util.h). TF32 (10-bit mantissas) would miss this by ~1000×.
  const std::vector<double> ref = values64(yr);
  test::expect_close(got.data(), ref.data(), M * N, K, 0.1 * std::sqrt((double)K), "linear vs ref");
  // GPU vs CPU: both within that of the reference.
  const std::vector<float> cv = values(yc);
  const std::vector<double> cpu_v(cv.begin(), cv.end());
  test::expect_close(got.data(), cpu_v.data(), M * N, K, 0.1 * std::sqrt((double)K), "linear vs cpu", 8.0);
}

TEST_F(Cuda, LinearMatchesReferenceAndCpuForEveryWeightType) {
  for (DType wt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1})
    for (int64_t M : {1, 3, 8, 9, 64})  // <= 8 rows: the fused kernel (non-f32); more: decoded slabs + cuBLAS
      check_linear(ctx(), wt, M, 96, 37, M != 3, M == 9);
}

TEST_F(Cuda, LinearOddSizesStridedRowsAndLargeShapes) {
  for (int64_t K : {1, 31, 33, 100}) check_linear(ctx(), DType::kF32, 5, K, 9, true, true);
  // The fused kernel's paths: eight elements per lane with float4 or scalar x loads (strided x), one per lane.
  check_linear(ctx(), DType::kBF16, 3, 96, 37, true, true);
  check_linear(ctx(), DType::kBF16, 3, 100, 37, true, false);
  check_linear(ctx(), DType::kF16, 2, 36, 21, false, true);
  check_linear(ctx(), DType::kQ4_1, 8, 4096, 40, true, true);
  check_linear(ctx(), DType::kF32, 1, 576, 1536, false, false);    // decode, SmolLM2 MLP shape
  check_linear(ctx(), DType::kQ8_0, 1, 576, 1536, true, false);    // decode, fused
  check_linear(ctx(), DType::kQ4_1, 64, 576, 192, false, true);    // prefill
  check_linear(ctx(), DType::kBF16, 128, 2048, 512, true, false);  // prefill, bf16
  // More decoded weights than one 64 MiB slab (4200 × 4096 floats): two SGEMMs into column ranges of y.
  check_linear(ctx(), DType::kQ8_0, 9, 4096, 4200, true, false);
  check_linear(ctx(), DType::kF32, 0, 8, 4, false, false);  // no rows
}

TEST_F(Cuda, LinearWithNoInnerDimensionIsTheBias) {
  Tensor x = dev(Tensor::zeros(DType::kF32, {3, 0})), w = dev(Tensor::zeros(DType::kF32, {4, 0}));
  core::Rng rng(3);
  Tensor b = test::rand_tensor(rng, {4});
  Tensor y = poisoned({3, 4});
  ops::linear_forward(ctx(), y, x, w, dev(b));
  const std::vector<float> got = values(host(y));
  for (int64_t m = 0; m < 3; ++m)
    for (int64_t n = 0; n < 4; ++n) EXPECT_EQ(got[m * 4 + n], b.f32()[n]);
  ops::linear_forward(ctx(), y, x, w, {});
  for (float v : values(host(y))) EXPECT_EQ(v, 0.0f);
}

// ---------------------------------------------------------------------------------------------------------------
// conv1d_causal

TEST_F(Cuda, Conv1dCausalEqualsCpuAndCarriesItsState) {
  struct Case {
    int64_t T, C, K;
    bool bias;
  };
  for (const Case& cs : {Case{1, 1, 1, false}, Case{5, 37, 4, true}, Case{64, 256, 4, true}, Case{2, 19, 4, false},
                         Case{3, 300, 2, true}})
    for (auto act : {ops::ConvActivation::kIdentity, ops::ConvActivation::kSilu}) {
      const bool silu = act == ops::ConvActivation::kSilu;
      SCOPED_TRACE(testing::Message() << "T=" << cs.T << " C=" << cs.C << " K=" << cs.K << (cs.bias ? " bias" : "")
                                      << (silu ? " silu" : ""));
      const int64_t T = cs.T, C = cs.C, K = cs.K, ld = C + 3;
      core::Rng rng(T * 7919 + C * 31 + K + silu);
      Tensor xb = test::rand_tensor(rng, {T, ld}), w = test::rand_tensor(rng, {C, K}, 0.5),
             b = test::rand_tensor(rng, {C}), st0 = test::rand_tensor(rng, {K - 1, C});
      const TensorView x = xb.view().slice(1, 0, C);
      Tensor xd_b = dev(xb), wd = dev(w), bd = dev(b), std_ = dev(st0), yd_b = poisoned({T, ld});
      const TensorView xd = xd_b.view().slice(1, 0, C), yd = yd_b.view().slice(1, 0, C);
      ops::conv1d_causal_forward(ctx(), yd, xd, wd, cs.bias ? bd.view() : TensorView{}, std_, act);
      Tensor yc = Tensor::zeros(DType::kF32, {T, C}), stc = Tensor::copy_of(st0);
      ops::Context cpu(2);
      ops::conv1d_causal_forward(cpu, yc, x, w, cs.bias ? b.view() : TensorView{}, stc, act);
      const std::vector<float> got = values(host(yd)), cv = values(yc);
      // The new state is a copy of input rows: the same bits.
      EXPECT_EQ(count_bit_differences(values(host(std_)), values(stc)), 0) << "state";
      if (!silu) {
        // bias, then K products and sums in the CPU op's order, each rounded once: the same bits.
        EXPECT_EQ(count_bit_differences(got, cv), 0) << "conv vs cpu";
      } else {
        // The same pre-activation s bit for bit (above); silu(s) = s/(1 + e^-s) then differs only through expf
        // (within 2 ulp here, 1 on the host: up to 3 ulp of e, hence of σ) and the two roundings after it on each
        // side: rtol = 5·eps.
        expect_within(got, cv, 5 * kEpsF32, 1e-30, "conv silu vs cpu");
      }
      if (T == 0) continue;
      Tensor yr = Tensor::zeros(DType::kF64, {T, C}), str = Tensor::zeros(DType::kF64, {K - 1, C});
      for (int64_t i = 0; i < str.numel(); ++i) str.f64()[i] = st0.f32()[i];
      ops::ref::conv1d_causal_forward(yr, x, w, cs.bias ? b.view() : TensorView{}, str, act);
      // As the CPU op's test: K products of |w| ~ 0.5, |x| ~ 1 plus the bias, summed in fp32.
      test::expect_close(got.data(), yr.f64(), T * C, K, 2.0, "conv vs ref");
    }
}

TEST_F(Cuda, Conv1dCausalStepByStepEqualsOneCall) {
  // Decode: T calls of one token carry the state and give the whole call's outputs, bit for bit (each output is
  // the same sum over the same extended rows).
  const int64_t T = 9, C = 70, K = 4;
  core::Rng rng(5);
  Tensor x = test::rand_tensor(rng, {T, C}), w = test::rand_tensor(rng, {C, K}, 0.5), b = test::rand_tensor(rng, {C}),
         st0 = test::rand_tensor(rng, {K - 1, C});
  for (auto act : {ops::ConvActivation::kIdentity, ops::ConvActivation::kSilu}) {
    Tensor xd = dev(x), wd = dev(w), bd = dev(b);
    Tensor s_all = dev(st0), s_step = dev(st0), y_all = poisoned({T, C}), y_step = poisoned({T, C});
    ops::conv1d_causal_forward(ctx(), y_all, xd, wd, bd, s_all, act);
    for (int64_t t = 0; t < T; ++t)
      ops::conv1d_causal_forward(ctx(), y_step.view().slice(0, t, t + 1), xd.view().slice(0, t, t + 1), wd, bd,
                                 s_step, act);
    EXPECT_EQ(count_bit_differences(values(host(y_step)), values(host(y_all))), 0);
    EXPECT_EQ(count_bit_differences(values(host(s_step)), values(host(s_all))), 0);
  }
}


// ---------------------------------------------------------------------------------------------------------------
// gated_recurrence decode step (Mamba-2 / Llamba)

struct StepCase {
  int64_t B, H, G, P, N;
  bool vector_gate;
};

// Inputs of one step, in wider host buffers so that q, k, v have strided batch rows (as slices of one projection).
struct StepInputs {
  Tensor qb, kb, vb, g, state;
  TensorView q, k, v;
  StepInputs(core::Rng& rng, const StepCase& c) {
    qb = test::rand_tensor(rng, {c.B, c.G, c.N + 3});
    kb = test::rand_tensor(rng, {c.B, c.G, c.N + 3});
    vb = test::rand_tensor(rng, {c.B, c.H, c.P + 1});
    q = qb.view().slice(2, 0, c.N), k = kb.view().slice(2, 0, c.N), v = vb.view().slice(2, 0, c.P);
    g = c.vector_gate ? test::rand_tensor(rng, {c.B, c.H, c.N}, 0.5) : test::rand_tensor(rng, {c.B, c.H}, 0.5);
    float* gp = g.f32();  // log a = -|x|, with a reset (-inf), a clamped positive value and a zero among them
    for (int64_t i = 0; i < g.numel(); ++i) gp[i] = -std::fabs(gp[i]);
    gp[0] = -INFINITY;
    if (g.numel() > 2) gp[1] = 0.7f, gp[2] = 0.0f;
    state = test::rand_tensor(rng, {c.B, c.H, c.P, c.N});
  }
};

ops::GatedRecurrenceStepArgs step_args(const TensorView& q, const TensorView& k, const TensorView& v,
                                       const TensorView& g, const TensorView& y, const TensorView& state,
                                       double scale) {
  ops::GatedRecurrenceStepArgs a;
  a.q = q, a.k = k, a.v = v, a.log_decay = g, a.y = y, a.state = state, a.scale = scale;
  return a;
}

TEST_F(Cuda, RecurrenceStepMatchesCpuAndReference) {
  for (const StepCase& c : {StepCase{1, 1, 1, 1, 1, false}, StepCase{2, 4, 2, 16, 32, false},
                            StepCase{3, 8, 1, 64, 128, false}, StepCase{2, 6, 3, 20, 33, true},
                            StepCase{1, 24, 1, 64, 128, true}}) {
    SCOPED_TRACE(testing::Message() << "B=" << c.B << " H=" << c.H << " G=" << c.G << " P=" << c.P << " N=" << c.N
                                    << (c.vector_gate ? " vector gates" : ""));
    core::Rng rng(c.B * 1000 + c.H * 100 + c.N + c.vector_gate);
    StepInputs in(rng, c);
    const double scale = 0.125;
    Tensor qd_b = dev(in.qb), kd_b = dev(in.kb), vd_b = dev(in.vb), gd = dev(in.g), sd = dev(in.state);
    Tensor yd = poisoned({c.B, c.H, c.P});
    ops::gated_recurrence_step(ctx(), step_args(qd_b.view().slice(2, 0, c.N), kd_b.view().slice(2, 0, c.N),
                                                vd_b.view().slice(2, 0, c.P), gd, yd, sd, scale));
    const std::vector<float> y_gpu = values(host(yd)), s_gpu = values(host(sd));
    // The CPU op and the fp64 reference on the same inputs.
    Tensor sc = Tensor::copy_of(in.state), yc = Tensor::zeros(DType::kF32, {c.B, c.H, c.P});
    ops::Context cpu(2);
    ops::gated_recurrence_step(cpu, step_args(in.q, in.k, in.v, in.g, yc, sc, scale));
    Tensor sr = Tensor::zeros(DType::kF64, {c.B, c.H, c.P, c.N}), yr = Tensor::zeros(DType::kF64, {c.B, c.H, c.P});
    Tensor q64 = Tensor::zeros(DType::kF64, {c.B, c.G, c.N}), k64 = Tensor::zeros(DType::kF64, {c.B, c.G, c.N}),
           v64 = Tensor::zeros(DType::kF64, {c.B, c.H, c.P}), g64 = Tensor::zeros(DType::kF64, in.g.shape());
    auto widen = [](const std::vector<float>& a, Tensor& t) {
      for (size_t i = 0; i < a.size(); ++i) t.f64()[i] = a[i];
    };
    const std::vector<float> qv = values(in.q), kv = values(in.k), vv = values(in.v), gv = values(in.g),
                             s0 = values(in.state);
    widen(qv, q64), widen(kv, k64), widen(vv, v64), widen(gv, g64), widen(s0, sr);
    ops::ref::gated_recurrence_step(step_args(q64, k64, v64, g64, yr, sr, scale));
    // State: a·s + v·k with the CPU op's roundings; the gates agree with the CPU's expf except near a rounding tie,
    // where a differs by one ulp, and then s by up to eps·|a·s| (plus one rounding of the sum).
    const std::vector<float> s_cpu = values(sc), y_cpu = values(yc);
    const int64_t hg = c.H / c.G;
    std::vector<double> s_bound(s_gpu.size()), y_bound(y_gpu.size());
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < c.H; ++h)
        for (int64_t p = 0; p < c.P; ++p) {
          double sum_qs = 0, sum_err = 0;
          for (int64_t n = 0; n < c.N; ++n) {
            const int64_t i = ((b * c.H + h) * c.P + p) * c.N + n;
            const double gn = std::min<double>(gv[c.vector_gate ? (b * c.H + h) * c.N + n : b * c.H + h], 0.0);
            const double as = std::fabs(std::exp(gn) * s0[i]);
            const double vk = std::fabs((double)vv[(b * c.H + h) * c.P + p] * kv[(b * c.G + h / hg) * c.N + n]);
            // vs ref: a within one rounding (eps/2) plus the products and the sum: 1.5·eps·(|a·s| + |v·k|).
            s_bound[i] = 1.5 * kEpsF32 * (as + vk);
            const double qn = std::fabs((double)qv[(b * c.G + h / hg) * c.N + n]);
            sum_qs += qn * std::fabs(sr.f64()[i]);
            sum_err += qn * s_bound[i];
          }
          // y = scale·Σ q·s: the states' errors carried through q, plus an fp32 sum of N products in any order
          // ((N/2 + 1)·eps·Σ|q·s|), plus the scale's rounding.
          const int64_t j = (b * c.H + h) * c.P + p;
          y_bound[j] = std::fabs(scale) * (sum_err + (c.N / 2.0 + 1) * kEpsF32 * sum_qs) +
                       kEpsF32 * std::fabs(yr.f64()[j]);
        }
    int64_t s_bad = 0, y_bad = 0;
    for (size_t i = 0; i < s_gpu.size(); ++i) s_bad += !(std::fabs(s_gpu[i] - sr.f64()[i]) <= s_bound[i] + 1e-30);
    for (size_t i = 0; i < y_gpu.size(); ++i) y_bad += !(std::fabs(y_gpu[i] - yr.f64()[i]) <= y_bound[i] + 1e-30);
    EXPECT_EQ(s_bad, 0) << "state vs ref";
    EXPECT_EQ(y_bad, 0) << "y vs ref";
    // vs cpu: a one-ulp gate difference moves s by eps·|a·s| <= eps·max|s0|, and the sum's rounding by one more ulp.
    double max_s = 0;
    for (size_t i = 0; i < s0.size(); ++i) max_s = std::max({max_s, (double)std::fabs(s0[i]), (double)std::fabs(s_cpu[i])});
    expect_within(s_gpu, s_cpu, 0, 2 * kEpsF32 * max_s, "state vs cpu");
    EXPECT_LE(count_bit_differences(s_gpu, s_cpu), (int64_t)s_gpu.size() / 50) << "state bits differing from cpu";
    // The reset (log a = -inf) drops the old state exactly: state = v·k.
    for (int64_t n = 0; n < c.N; ++n)
      if (!c.vector_gate || n == 0) {
        EXPECT_EQ(s_gpu[n], vv[0] * kv[n]) << n;
      }
  }
}

TEST_F(Cuda, RecurrenceStepsTrackTheCpuOverManyTokens) {
  // Thirty-two decode steps with fresh inputs each: the GPU and CPU states stay within a few ulp of each other
  // (each step adds at most the rounding differences above to a state that decays, |a| <= 1).
  const StepCase c{2, 8, 2, 32, 64, false};
  core::Rng rng(42);
  StepInputs first(rng, c);
  Tensor sd = dev(first.state), sc = Tensor::copy_of(first.state);
  ops::Context cpu(2);
  double worst = 0, scale_s = 0;
  for (int step = 0; step < 32; ++step) {
    StepInputs in(rng, c);
    Tensor yd = poisoned({c.B, c.H, c.P}), yc = Tensor::zeros(DType::kF32, {c.B, c.H, c.P});
    Tensor qd_b = dev(in.qb), kd_b = dev(in.kb), vd_b = dev(in.vb), gd = dev(in.g);
    ops::gated_recurrence_step(ctx(), step_args(qd_b.view().slice(2, 0, c.N), kd_b.view().slice(2, 0, c.N),
                                                vd_b.view().slice(2, 0, c.P), gd, yd, sd, 1.0));
    ops::gated_recurrence_step(cpu, step_args(in.q, in.k, in.v, in.g, yc, sc, 1.0));
    const std::vector<float> s_gpu = values(host(sd)), s_cpu = values(sc);
    for (size_t i = 0; i < s_gpu.size(); ++i) {
      worst = std::max(worst, (double)std::fabs(s_gpu[i] - s_cpu[i]));
      scale_s = std::max(scale_s, (double)std::fabs(s_cpu[i]));
    }
    // y = Σ_n q·s on both sides, summed in different orders: |Δy| <= Σ|q|·|Δs| + N·eps·Σ|q·s| (each side's fp32
    // sum within (N/2)·eps·Σ|q·s|, products included).
    const std::vector<float> yv = values(host(yd)), ycv = values(yc), qv = values(in.q);
    const int64_t hg = c.H / c.G;
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < c.H; ++h)
        for (int64_t p = 0; p < c.P; ++p) {
          double bound = 0;
          for (int64_t n = 0; n < c.N; ++n) {
            const int64_t i = ((b * c.H + h) * c.P + p) * c.N + n;
            const double qn = std::fabs((double)qv[(b * c.G + h / hg) * c.N + n]);
            bound += qn * (std::fabs(s_gpu[i] - s_cpu[i]) + c.N * kEpsF32 * std::fabs(s_cpu[i]));
          }
          const int64_t j = (b * c.H + h) * c.P + p;
          ASSERT_LE(std::fabs(yv[j] - ycv[j]), bound + 1e-30) << "y vs cpu, step " << step << " row " << j;
        }
  }
  EXPECT_LE(worst, 32 * 2 * kEpsF32 * scale_s) << "state drift over 32 steps";
}

TEST_F(Cuda, RecurrenceStepRefusesWhatItHasNoKernelFor) {
  const StepCase c{1, 2, 1, 4, 8, false};
  core::Rng rng(7);
  StepInputs in(rng, c);
  Tensor q = dev(in.q), k = dev(in.k), v = dev(in.v), g = dev(in.g), s = dev(in.state), y = poisoned({1, 2, 4});
  ops::GatedRecurrenceStepArgs a = step_args(q, k, v, g, y, s, 1.0);
  a.phase = g;  // complex gates
  a.state_im = s;
  expect_error([&] { ops::gated_recurrence_step(ctx(), a); }, {"[gated_recurrence_step]", "complex"});
  // A host view inside the argument struct is refused by the dispatch.
  ops::GatedRecurrenceStepArgs mixed = step_args(q, k, in.v, g, y, s, 1.0);
  expect_error([&] { ops::gated_recurrence_step(ctx(), mixed); }, {"[gated_recurrence_step]", "cpu", "cuda"});
  ops::Context cpu(1);
  ops::GatedRecurrenceStepArgs on_gpu = step_args(in.q, in.k, in.v, in.g, y, in.state, 1.0);
  expect_error([&] { ops::gated_recurrence_step(cpu, on_gpu); }, {"[gated_recurrence_step]", "cuda", "cpu"});
  // Shapes are checked as on the CPU.
  Tensor s9 = dev(Tensor::zeros(DType::kF32, {1, 2, 4, 9}));
  ops::GatedRecurrenceStepArgs bad = step_args(q, k, v, g, y, s9, 1.0);
  expect_error([&] { ops::gated_recurrence_step(ctx(), bad); }, {"[gated_recurrence]", "state"});
}


// ---------------------------------------------------------------------------------------------------------------
// Timings (not a test: run with --gtest_also_run_disabled_tests --gtest_filter=*Timing*). Medians of 20 runs after
// 3 warm-ups, host clock around a stream synchronize (so each includes one launch-and-wait round trip).

double median_ms(const std::function<void()>& fn, ops::Context& ctx) {
  for (int i = 0; i < 3; ++i) fn();
  ops::cuda::synchronize(ctx);
  std::vector<double> ms;
  for (int i = 0; i < 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ops::cuda::synchronize(ctx);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

TEST_F(Cuda, DISABLED_Timing) {
  std::printf("| op | shape | weights | ms | GB/s (weights) | GFLOP/s |\n|---|---|---|---|---|---|\n");
  const int64_t K = 4096, N = 14336;  // weights of 62 MB (q8_0) to 235 MB (f32): past the 50 MB L2
  core::Rng rng(11);
  const auto wf = test::randn(rng, N * K, 0.1);
  for (DType wt : {DType::kF32, DType::kBF16, DType::kQ8_0}) {
    Tensor w = Tensor::zeros(wt, {N, K});
    quant::quantize_row(wt, wf.data(), w.view().data, N * K);
    Tensor wd = dev(w);
    for (int64_t M : {1, 8, 512}) {
      Tensor xd = dev(test::rand_tensor(rng, {M, K})), yd = poisoned({M, N});
      const double ms = median_ms([&] { ops::linear_forward(ctx(), yd, xd, wd, {}); }, ctx());
      const double gbs = (double)w.view().nbytes() / ms / 1e6, gflops = 2.0 * M * N * K / ms / 1e6;
      std::printf("| linear_forward | %ldx%ldx%ld | %s | %.3f | %.0f | %.0f |\n", (long)M, (long)K, (long)N,
                  std::string(core::dtype_name(wt)).c_str(), ms, gbs, gflops);
    }
  }
  // The decode step at the Llamba-1B shape (H = 32 heads of P = 64, N = 64 is the 8B's; here N = 128), B sequences.
  for (int64_t B : {1, 256}) {
    const StepCase c{B, 32, 1, 64, 128, false};
    core::Rng rng(B);
    StepInputs in(rng, c);
    Tensor q = dev(in.q), k = dev(in.k), v = dev(in.v), g = dev(in.g), st = dev(in.state), y = poisoned({B, 32, 64});
    const double ms = median_ms([&] { ops::gated_recurrence_step(ctx(), step_args(q, k, v, g, y, st, 1.0)); }, ctx());
    const double bytes = 2.0 * st.view().nbytes();  // the state read and written
    std::printf("| gated_recurrence_step | B=%ld H=32 P=64 N=128 | state | %.3f | %.0f | - |\n", (long)B, ms,
                bytes / ms / 1e6);
  }
}

}  // namespace
}  // namespace llamba
