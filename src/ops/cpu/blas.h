// Dense f32 matrix products through OpenBLAS (cblas_sgemm): 1.5-2× the tiled SIMD dots of cpu::dot_tile on the
// large training and prefill products (docs/benchmarks.md). Row-major, C (M, N) = beta · C + op(A) · op(B) with
// op(A) (M, K) and op(B) (K, N); `trans_*` reads the stored matrix transposed. Runs on `pool`'s threads (a slice
// of C each); call it from the thread that owns the pool, never from inside one of its tasks.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace llamba::ops::cpu {

void sgemm(core::ThreadPool& pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// FLOPs (2·M·N·K per call) done by sgemm() in this process so far, for achieved-rate reports.
uint64_t sgemm_flops_done();
// This machine's sgemm rate on `pool` now: the best of a few 1024³ products, in FLOP/s (~0.1 s).
double measure_sgemm_rate(core::ThreadPool& pool);

}  // namespace llamba::ops::cpu
