// Benchmark of linear_forward at decode (one input row) and prefill (64 rows) on SmolLM2-135M's shapes, for the
// weight types of its GGUF (f32, q8_0, q4_1), and on a 2048×2048 matrix (Llama-3.2-1B's width) for the k-quants of
// llama.cpp's Q4_K_M files (q4_k, q6_k), next to the machine's read bandwidth — the roofline of a decode
// matrix-vector product, which must stream every weight once per token. Counters: bytes/s of weights read
// (decode's roofline quantity) and FLOP/s (2·M·N·K).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "ops/context.h"
#include "ops/linear.h"
#include "quant/quant.h"

namespace {

using llamba::core::DType;
using llamba::core::Tensor;

// Sum of words [b, e), compiled for the widest vectors the CPU has (function multiversioning), so that the read
// loop is limited by memory and not by instruction throughput.
__attribute__((target_clones("avx512f", "avx2", "default"))) uint64_t sum_words(const uint64_t* p, int64_t b,
                                                                                int64_t e) {
  uint64_t s = 0;
  for (int64_t i = b; i < e; ++i) s += p[i];
  return s;
}

// Reads a 512 MiB buffer (far beyond the caches) with `threads` threads: the memory roofline.
void BM_read_bandwidth(benchmark::State& st) {
  const int threads = (int)st.range(0);
  const int64_t n = (int64_t)64 << 20;  // uint64 words
  std::vector<uint64_t> buf((size_t)n, 1);
  llamba::ops::Context ctx(threads);
  std::vector<uint64_t> part((size_t)threads * 8);
  for (auto _ : st) {
    ctx.pool().parallel_for(threads, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        part[(size_t)t * 8] = sum_words(buf.data(), n * t / threads, n * (t + 1) / threads);
    });
    benchmark::DoNotOptimize(part.data());
  }
  st.counters["bytes/s"] = benchmark::Counter((double)n * 8, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_read_bandwidth)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// args: weight type, M, N, K, threads, gemm (0 exact tiles, 1 OpenBLAS: ops::Gemm).
void BM_linear(benchmark::State& st) {
  const auto wt = (DType)st.range(0);
  const int64_t M = st.range(1), N = st.range(2), K = st.range(3);
  llamba::core::Rng rng(1);
  std::vector<float> wf((size_t)(N * K));
  for (auto& v : wf) v = 0.05f * (float)rng.normal();
  Tensor w = Tensor::zeros(wt, {N, K});
  if (llamba::quant::can_quantize(wt)) {
    llamba::quant::quantize_row(wt, wf.data(), w.view().data, N * K);
  } else {  // k-quants have no quantizer: bytes ≤ 0x3b keep every f16 scale finite; the values do not change the cost
    auto* bytes = static_cast<uint8_t*>(w.view().data);
    for (int64_t i = 0; i < w.view().nbytes(); ++i) bytes[i] = (uint8_t)(rng.next_u64() & 0x3b);
  }
  Tensor x = Tensor::zeros(DType::kF32, {M, K}), y = Tensor::zeros(DType::kF32, {M, N});
  for (int64_t i = 0; i < M * K; ++i) x.f32()[i] = (float)rng.normal();
  llamba::ops::Context ctx((int)st.range(4));
  ctx.set_gemm(st.range(5) ? llamba::ops::Gemm::kBlas : llamba::ops::Gemm::kExact);
  for (auto _ : st) {
    llamba::ops::linear_forward(ctx, y, x, w, {});
    benchmark::ClobberMemory();
  }
  st.SetLabel(std::string(llamba::core::dtype_name(wt)) + (st.range(5) ? " blas" : ""));
  const double weight_bytes = (double)llamba::core::dtype_bytes(wt, N * K);
  st.counters["bytes/s"] = benchmark::Counter(weight_bytes, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["FLOP/s"] = benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate);
}

void linear_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"type", "M", "N", "K", "threads", "blas"});
  for (int threads : {1, 2}) {
    for (DType t : {DType::kF32, DType::kQ8_0, DType::kQ4_1}) {
      b->Args({(int64_t)t, 1, 1536, 576, threads, 0});   // MLP up/gate, decode
      b->Args({(int64_t)t, 64, 1536, 576, threads, 0});  // the same, prefill of 64 tokens
      b->Args({(int64_t)t, 64, 1536, 576, threads, 1});
    }
    b->Args({(int64_t)DType::kQ8_0, 1, 49152, 576, threads, 0});  // tied output head, decode
    for (DType t : {DType::kQ8_0, DType::kQ4_1, DType::kQ4_K, DType::kQ6_K})
      b->Args({(int64_t)t, 1, 2048, 2048, threads, 0});  // a 1B model's square projection, decode
    b->Args({(int64_t)DType::kQ4_K, 64, 2048, 2048, threads, 0});
  }
  // A training step's projections (4 × 256 tokens): SmolLM2's MLP and the Llamba student's in_proj, tiles vs BLAS.
  for (int blas : {0, 1}) {
    b->Args({(int64_t)DType::kF32, 1024, 1536, 576, 2, blas});
    b->Args({(int64_t)DType::kF32, 1024, 2313, 576, 2, blas});
  }
}
BENCHMARK(BM_linear)->Apply(linear_args)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
