// Models on the GPU: Llamba against the reference implementation's fixtures (tools/reference/
// make_llamba_fixtures.py) with the weights, states and logits in device memory, every tap compared in order as
// the CPU test does (tests/models/test_llamba_reference.cpp), then the CUDA run against the CPU run: decode logits
// and greedy tokens. Skips without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include "io/gguf.h"
#include "models/llamba/llamba.h"
#include "ops/cuda/cuda.h"
#include "ops/memory.h"
#include "reference_test_util.h"
#include "test_util.h"

namespace llamba {
namespace {

// The CPU test's bound (5e-5 relative to a tensor's max |ref|): the GPU kernels compute in fp32 (cuBLAS without
// TF32, --fmad=false) with other summation orders, the same kind of error as the CPU's against the fp32 fixture.
constexpr double kTol = 5e-5;

std::shared_ptr<ops::cuda::Backend> backend_or_skip() {
  std::string why;
  if (!ops::cuda::available(&why)) return nullptr;
  return ops::cuda::make_backend();
}

class LlambaCuda : public ::testing::TestWithParam<std::string> {};

TEST_P(LlambaCuda, EveryTapMatchesTheReference) {
  auto be = backend_or_skip();
  if (!be) GTEST_SKIP() << "no CUDA device";
  ops::Context gpu(be);
  const std::string name = GetParam();
  const auto gguf = io::GgufFile::open(test::convert_reference_checkpoint("llamba", name));
  models::llamba::LlambaModel model(gguf);
  model.place_weights(gpu);
  ASSERT_EQ(model.weights_device(), core::Device::kCuda);
  test::ReferenceRun r(model, "llamba", name, kTol, &gpu);
  ASSERT_NO_FATAL_FAILURE(r.prefill());
  ASSERT_NO_FATAL_FAILURE(r.check_taps_in_order(test::forward_tap_order(r.L, {"hidden", "mixer_out"})));
  ASSERT_NO_FATAL_FAILURE(r.check_states("state", {"conv", "ssm"}));
  ASSERT_NO_FATAL_FAILURE(r.check_decode());
  ASSERT_NO_FATAL_FAILURE(r.check_states("decode_state", {"conv", "ssm"}));
  r.print_summary();
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, LlambaCuda, ::testing::Values("g_eq_h", "g_lt_h", "p_odd", "short_t"));

// The g_lt_h reference checkpoint as a model on the CPU and a copy with its weights on the GPU.
class LlambaCudaVsCpu : public ::testing::Test {
 protected:
  void SetUp() override {
    auto be = backend_or_skip();
    if (!be) GTEST_SKIP() << "no CUDA device";
    gpu_ = std::make_unique<ops::Context>(be);
    gguf_ = std::make_unique<io::GgufFile>(
        io::GgufFile::open(test::convert_reference_checkpoint("llamba", "g_lt_h")));
    on_cpu_ = std::make_unique<models::llamba::LlambaModel>(*gguf_);
    on_gpu_ = std::make_unique<models::llamba::LlambaModel>(*gguf_);
    on_gpu_->place_weights(*gpu_);
  }
  ops::Context cpu_{2};
  std::unique_ptr<ops::Context> gpu_;
  std::unique_ptr<io::GgufFile> gguf_;
  std::unique_ptr<models::llamba::LlambaModel> on_cpu_, on_gpu_;
};

// Greedy decoding of 24 tokens on the GPU and on the CPU from the same prompt, with the logits compared at every
// step: the tokens are equal wherever the CPU's top-2 margin exceeds the logits' difference.
TEST_F(LlambaCudaVsCpu, GreedyDecode) {
  ops::Context& gpu = *gpu_;
  ops::Context& cpu = cpu_;
  models::llamba::LlambaModel& on_cpu = *on_cpu_;
  models::llamba::LlambaModel& on_gpu = *on_gpu_;
  const int64_t V = on_cpu.info().n_vocab;
  auto s_cpu = on_cpu.new_state(cpu), s_gpu = on_gpu.new_state(gpu);
  models::SequenceState* pc[] = {s_cpu.get()};
  models::SequenceState* pg[] = {s_gpu.get()};
  std::vector<int32_t> prompt(37);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = (int32_t)((i * 11 + 3) % V);
  core::Tensor lc = core::Tensor::zeros(core::DType::kF32, {1, V});
  core::Tensor lg = ops::zeros(gpu, core::DType::kF32, {1, V});
  on_cpu.forward(cpu, prompt, 1, pc, lc, {});
  on_gpu.forward(gpu, prompt, 1, pg, lg, {});
  int same = 0, steps = 24;
  double worst = 0;
  for (int s = 0; s < steps; ++s) {
    const core::Tensor hg = ops::to_host(gpu, lg);
    const float* c = lc.f32();
    const float* g = hg.f32();
    const double err = test::rel_max_error(g, c, V);
    worst = std::max(worst, err);
    ASSERT_LE(err, kTol) << "step " << s;
    const int32_t tc = (int32_t)(std::max_element(c, c + V) - c), tg = (int32_t)(std::max_element(g, g + V) - g);
    std::vector<float> sorted(c, c + V);
    std::nth_element(sorted.begin(), sorted.begin() + 1, sorted.end(), std::greater<float>());
    const double margin = sorted[0] - sorted[1], diff = err * std::fabs(*std::max_element(c, c + V));
    if (margin > 2 * diff) EXPECT_EQ(tg, tc) << "step " << s << " margin " << margin;
    same += tg == tc;
    const int32_t next[] = {tc};  // both continue with the CPU's token, so the sequences stay comparable
    on_cpu.forward(cpu, next, 1, pc, lc, {});
    on_gpu.forward(gpu, next, 1, pg, lg, {});
  }
  std::printf("greedy: %d of %d tokens equal, worst logits error %.2g\n", same, steps, worst);
}

// Three sequences decoded together on the GPU from pooled states (one pool per layer, updated in place by the
// batched conv and recurrence) track the CPU's separate states: a 21-token prompt each, then 6 steps.
TEST_F(LlambaCudaVsCpu, PooledBatchDecode) {
  ops::Context& gpu = *gpu_;
  ops::Context& cpu = cpu_;
  models::llamba::LlambaModel& on_cpu = *on_cpu_;
  models::llamba::LlambaModel& on_gpu = *on_gpu_;
  const int64_t V = on_cpu.info().n_vocab, B = 3;
  models::FreshStates sc(on_cpu, B), sg(on_gpu, B, gpu);
  double worst = 0;
  for (int step = -1; step < 6; ++step) {
    const int64_t T = step < 0 ? 21 : 1;
    std::vector<int32_t> ids(B * T);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = (int32_t)((i * 13 + 5 * (step + 2)) % V);
    core::Tensor lc = core::Tensor::zeros(core::DType::kF32, {B, V});
    core::Tensor lg = ops::zeros(gpu, core::DType::kF32, {B, V});
    on_cpu.forward(cpu, ids, B, sc.ptrs, lc, {});
    on_gpu.forward(gpu, ids, B, sg.ptrs, lg, {});
    const core::Tensor hg = ops::to_host(gpu, lg);
    for (int64_t b = 0; b < B; ++b) {
      const double err = test::rel_max_error(hg.f32() + b * V, lc.f32() + b * V, V);
      worst = std::max(worst, err);
      ASSERT_LE(err, kTol) << "step " << step << " row " << b;
    }
  }
  std::printf("pooled batch of %lld: worst logits error %.2g\n", (long long)B, worst);
}

// Timing (not a test: --gtest_also_run_disabled_tests --gtest_filter=*Timing*): a random Llamba of the
// Llamba-1B shape (d_model 2048, 16 layers, ffn 8192, 32 heads, d_state 64, vocabulary 128256) in f32, batch 1:
// prefill of 512 tokens and 64 decode steps on the GPU, with the weight bytes read per token against the HBM
// bandwidth given in LLAMBA_HBM_GBS (default 3350, an H100 SXM).
TEST(LlambaCudaTiming, DISABLED_Llamba1BShapeBatch1) {
  auto be = backend_or_skip();
  if (!be) GTEST_SKIP() << "no CUDA device";
  ops::Context gpu(be);
  const nlohmann::json cfg = {{"d_model", 2048}, {"n_layers", 16}, {"ffn", 8192}, {"n_heads", 32},
                              {"n_groups", 32},  {"d_state", 64},  {"expand", 1}, {"tie_embeddings", true}};
  io::GgufWriter w;
  models::llamba::write_init(cfg, 128256, 1, w);
  const std::string path = test::temp_path("llamba1b_f32.gguf").string();
  w.write(path);
  const auto gguf = io::GgufFile::open(path);
  models::llamba::LlambaModel model(gguf);
  model.place_weights(gpu);
  int64_t weight_bytes = 0;
  model.for_each_tensor([&](const std::string& n, const core::TensorView& t) {
    if (n != "token_embd.weight") weight_bytes += t.nbytes();  // the embedding is read one row per token...
  });
  weight_bytes += 128256 * 2048 * 4;  // ...but the tied head reads all of it
  const int64_t V = model.info().n_vocab;
  auto state = model.new_state(gpu);
  models::SequenceState* ps[] = {state.get()};
  const core::Tensor logits = ops::zeros(gpu, core::DType::kF32, {1, V});
  std::vector<int32_t> prompt(512);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = (int32_t)(i * 31 % V);
  const auto now = [] { return std::chrono::steady_clock::now(); };
  const auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  model.forward(gpu, std::span(prompt).first(16), 1, ps, logits, {});  // warm-up: arena, cuBLAS
  ops::cuda::synchronize(gpu);
  auto fresh = model.new_state(gpu);
  models::SequenceState* pf[] = {fresh.get()};
  auto t0 = now();
  model.forward(gpu, prompt, 1, pf, logits, {});
  ops::cuda::synchronize(gpu);
  const double prefill = secs(t0, now());
  const int steps = 64;
  t0 = now();
  for (int s = 0; s < steps; ++s) {
    const int32_t tok[] = {(int32_t)(s * 17 % V)};
    model.forward(gpu, tok, 1, pf, logits, {});
  }
  ops::cuda::synchronize(gpu);
  const double decode = secs(t0, now()) / steps;
  const char* hbm = std::getenv("LLAMBA_HBM_GBS");
  const double gbs = hbm ? std::atof(hbm) : 3350.0, floor = weight_bytes / (gbs * 1e9);
  std::printf("| Llamba-1B shape f32, batch 1 | prefill 512: %.0f tok/s | decode: %.1f tok/s (%.2f ms/token) | "
              "weights %.2f GB/token: %.0f GB/s, %.0f %% of %.0f GB/s |\n",
              512 / prefill, 1 / decode, decode * 1e3, weight_bytes / 1e9, weight_bytes / decode / 1e9,
              100 * floor / decode, gbs);
}

}  // namespace
}  // namespace llamba
