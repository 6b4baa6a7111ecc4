// Timing of Llamba on the GPU (not a test: --gtest_also_run_disabled_tests --gtest_filter=*Timing*, run by
// tests/cuda/device_run.sh with TIMING=1): a random Llamba of the Llamba-1B shape (d_model 2048, 16 layers, ffn
// 8192, 32 heads of 64, d_state 64, vocabulary 128,256, tied head) with bf16 weights, as the targets are
// stated. Rows of a markdown table:
// - batch 1: prefill 512 tokens (fp32 products, then Gemm::kReduced) and decode, with the weight bytes read per
//   token against the HBM bandwidth LLAMBA_HBM_GBS (default 4800, an H200; 3350 for an H100 SXM);
// - prefill of 8 sequences of 2048 tokens (kReduced);
// - decode throughput of B sequences at once (pooled states, kReduced) for B in LLAMBA_SEQS (default
//   1,16,64,256,1024,4096): tokens/s over 8 steps after 2 warm-up steps, and the memory the states take.
// The times are host clock around a stream synchronize.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "models/llamba/llamba.h"
#include "ops/cuda/cuda.h"
#include "ops/memory.h"
#include "quantize/quantize_model.h"
#include "test_util.h"

namespace llamba {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<int64_t> seqs_from_env() {
  const char* e = std::getenv("LLAMBA_SEQS");
  std::stringstream ss(e ? e : "1,16,64,256,1024,4096");
  std::vector<int64_t> out;
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoll(item));
  return out;
}

// Token ids of `n` sequences of `t` tokens, deterministic.
std::vector<int32_t> tokens(int64_t n, int64_t t, int64_t V, int64_t salt) {
  std::vector<int32_t> ids(n * t);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = (int32_t)((i * 31 + salt * 7919) % V);
  return ids;
}

TEST(LlambaCudaTiming, DISABLED_Llamba1BShapeBf16) {
  std::string why;
  if (!ops::cuda::available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  ops::Context gpu(ops::cuda::make_backend());
  const nlohmann::json cfg = {{"d_model", 2048}, {"n_layers", 16}, {"ffn", 8192}, {"n_heads", 32},
                              {"n_groups", 32},  {"d_state", 64},  {"expand", 1}, {"tie_embeddings", true}};
  const std::string f32_path = test::temp_path("llamba1b_f32.gguf").string();
  const std::string bf16_path = test::temp_path("llamba1b_bf16.gguf").string();
  {
    io::GgufWriter w;
    models::llamba::write_init(cfg, 128256, 1, w);
    w.write(f32_path);
    core::ThreadPool pool(0);
    quantize::QuantizeOptions q;
    q.type = quantize::FileType::kBF16;
    q.pure = true;
    quantize::quantize_model(pool, f32_path, bf16_path, q, false);
  }
  const auto gguf = io::GgufFile::open(bf16_path);
  models::llamba::LlambaModel model(gguf);
  model.place_weights(gpu);
  int64_t weight_bytes = 0, embd_bytes = 0;
  model.for_each_tensor([&](const std::string& n, const core::TensorView& t) {
    weight_bytes += t.nbytes();  // the tied head reads all of the embedding per token
    if (n == "token_embd.weight") embd_bytes = t.nbytes();
  });
  ASSERT_GT(embd_bytes, 0);
  const int64_t V = model.info().n_vocab;
  const char* hbm = std::getenv("LLAMBA_HBM_GBS");
  const double gbs = hbm ? std::atof(hbm) : 4800.0;

  // Batch 1.
  for (const ops::Gemm gemm : {ops::Gemm::kExact, ops::Gemm::kReduced}) {
    gpu.set_gemm(gemm);
    models::FreshStates warm(model, 1, gpu), st(model, 1, gpu);
    const core::Tensor logits = ops::zeros(gpu, core::DType::kF32, {1, V});
    const std::vector<int32_t> prompt = tokens(1, 512, V, 1);
    model.forward(gpu, std::span(prompt).first(64), 1, warm.ptrs, logits, {});  // arena, cuBLAS
    ops::cuda::synchronize(gpu);
    auto t0 = std::chrono::steady_clock::now();
    model.forward(gpu, prompt, 1, st.ptrs, logits, {});
    ops::cuda::synchronize(gpu);
    const double prefill = seconds_since(t0);
    const int steps = 64;
    t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) {
      const int32_t tok[] = {(int32_t)(s * 17 % V)};
      model.forward(gpu, tok, 1, st.ptrs, logits, {});
    }
    ops::cuda::synchronize(gpu);
    const double decode = seconds_since(t0) / steps;
    const double floor = weight_bytes / (gbs * 1e9);
    std::printf("| bf16, batch 1, %s products | prefill 512: %.0f tok/s | decode: %.1f tok/s (%.3f ms/token) | "
                "%.2f GB/token: %.0f GB/s, %.0f %% of %.0f GB/s |\n",
                gemm == ops::Gemm::kExact ? "fp32" : "tensor-core", 512 / prefill, 1 / decode, decode * 1e3,
                weight_bytes / 1e9, weight_bytes / decode / 1e9, 100 * floor / decode, gbs);
  }

  gpu.set_gemm(ops::Gemm::kReduced);
  {  // Prefill 8 × 2048.
    const int64_t B = 8, T = 2048;
    const core::Tensor logits = ops::zeros(gpu, core::DType::kF32, {B, V});
    const std::vector<int32_t> ids = tokens(B, T, V, 2);
    models::FreshStates warm(model, B, gpu), st(model, B, gpu);
    model.forward(gpu, std::span(ids).first(B * 64), B, warm.ptrs, logits, {});
    ops::cuda::synchronize(gpu);
    const auto t0 = std::chrono::steady_clock::now();
    model.forward(gpu, ids, B, st.ptrs, logits, {});
    ops::cuda::synchronize(gpu);
    const double s = seconds_since(t0);
    std::printf("| bf16, prefill 8 × 2048, tensor-core products | %.0f tok/s (%.3f s) | | |\n", B * T / s, s);
  }

  // Decode throughput over B sequences.
  for (const int64_t B : seqs_from_env()) {
    std::unique_ptr<models::FreshStates> st;
    core::Tensor logits;
    try {
      st = std::make_unique<models::FreshStates>(model, B, gpu);
      logits = ops::zeros(gpu, core::DType::kF32, {B, V});
    } catch (const Error& e) {
      std::printf("| bf16 decode, %lld sequences | out of memory: %s | | |\n", (long long)B, e.what());
      break;
    }
    const int64_t state_bytes = st->ptrs[0]->bytes() * B;
    const auto step = [&](int s) {
      const std::vector<int32_t> ids = tokens(B, 1, V, s);
      model.forward(gpu, ids, B, st->ptrs, logits, {});
    };
    for (int s = 0; s < 2; ++s) step(s);
    ops::cuda::synchronize(gpu);
    const int steps = 8;
    const auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) step(2 + s);
    ops::cuda::synchronize(gpu);
    const double per_step = seconds_since(t0) / steps;
    // Each step reads the weights once and every state twice (read, write).
    const double bytes = weight_bytes + 2.0 * state_bytes;
    std::printf("| bf16 decode, %lld sequences | %.0f tok/s (%.2f ms/step) | states %.2f GB | "
                "weights + states r/w %.0f GB/s |\n",
                (long long)B, B / per_step, per_step * 1e3, state_bytes / 1e9, bytes / per_step / 1e9);
  }
}

}  // namespace
}  // namespace llamba
