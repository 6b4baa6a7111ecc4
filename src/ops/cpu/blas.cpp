// OpenBLAS behind one function. OpenBLAS runs single-threaded inside the pool's threads, each on its own slice of
// C: its own worker threads would spin (sched_yield) against the pool's on the same cores.
#include "ops/cpu/blas.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

namespace llamba::ops::cpu {

namespace {

std::atomic<uint64_t> g_flops{0};

// sgemm without the FLOP count.
void sgemm_on_pool(core::ThreadPool& pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* a,
                   int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
  if (M == 0 || N == 0) return;
  // Slices of C rows or columns (whichever dimension is longer), at least kMin wide so each call stays efficient.
  constexpr int64_t kMin = 64;
  const bool by_rows = M >= N;
  const int64_t len = by_rows ? M : N;
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(pool.size(), len / kMin));
  const int64_t step = (len + parts - 1) / parts;
  pool.run_tasks(parts, [&](int64_t p) {
    const int64_t s0 = p * step, n = std::min(len, s0 + step) - s0;
    if (n <= 0) return;
    const float* as = a;
    const float* bs = b;
    float* cs = c;
    int64_t m = M, nn = N;
    if (by_rows) {
      as = trans_a ? a + s0 : a + s0 * lda;  // rows s0.. of op(A)
      cs = c + s0 * ldc;
      m = n;
    } else {
      bs = trans_b ? b + s0 * ldb : b + s0;  // columns s0.. of op(B)
      cs = c + s0;
      nn = n;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m,
                (int)nn, (int)K, 1.0f, as, (int)lda, bs, (int)ldb, beta, cs, (int)ldc);
  });
}

}  // namespace

void sgemm(core::ThreadPool& pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  g_flops.fetch_add((uint64_t)(2 * M * N * K), std::memory_order_relaxed);
  sgemm_on_pool(pool, trans_a, trans_b, M, N, K, a, lda, b, ldb, beta, c, ldc);
}

uint64_t sgemm_flops_done() { return g_flops.load(std::memory_order_relaxed); }

double measure_sgemm_rate(core::ThreadPool& pool) {
  constexpr int64_t n = 1024;
  std::vector<float> a((size_t)(n * n), 0.5f), b((size_t)(n * n), 0.25f), c((size_t)(n * n));
  double best = 0;
  for (int rep = 0; rep < 4; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    sgemm_on_pool(pool, false, true, n, n, n, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * n * n * n / s);
  }
  return best;
}

}  // namespace llamba::ops::cpu
