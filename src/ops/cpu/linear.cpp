// linear on the CPU. Every product is C[m, n] (+)= Σ_k A[m, k] · B[n, k] over rows of A and B, computed in 4×4
// tiles of SIMD dot products (cpu::dot_tile) with blocks of 16 B rows spread across threads: each row's result
// is independent of the number of rows. Forward: B = the weight rows, dequantized block by block into a
// thread-local buffer; for a few input rows (decode) the quantized blocks are dotted directly instead (same
// result bit for bit, no f32 copy to write and read). With `blas` (Gemm::kBlas) products of kBlasMinRows rows
// and more are one OpenBLAS sgemm instead (cpu::sgemm; quantized weights dequantized kDequantRows rows at a time).
// Backward: dx = dy · w and dw = dyᵀ · x (without blas: row-by-row products on transposed copies, wᵀ; dyᵀ, xᵀ).
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/linear.h"

#include <algorithm>
#include <vector>

#include "ops/check_shapes.h"
#include "ops/cpu/blas.h"
#include "ops/cpu/dot.h"
#include "ops/cpu/quant_dot.h"
#include "quant/quant.h"

namespace llamba::ops::cpu {

using core::DType;

namespace {

constexpr int64_t kRowBlock = 16;  // B rows per task

// C[m, n0 + r] = (or +=) Σ_k A[m, k] · b_rows[r][k] (+ bias[n0 + r]) for every m < M and r < n_rows.
void rows_times_block(const float* a, int64_t lda, int64_t M, const float* const* b_rows, int64_t n_rows, int64_t K,
                      float* c, int64_t ldc, int64_t n0, const float* bias, bool accumulate) {
  for (int64_t m = 0; m < M; m += 4) {
    const int mr = (int)std::min<int64_t>(4, M - m);
    const float* as[4];
    for (int i = 0; i < mr; ++i) as[i] = a + (m + i) * lda;
    for (int64_t r0 = 0; r0 < n_rows; r0 += 4) {
      const int nr = (int)std::min<int64_t>(4, n_rows - r0);
      float tile[16];
      cpu::dot_tile(as, mr, b_rows + r0, nr, K, tile, 4);
      for (int i = 0; i < mr; ++i) {
        float* ci = c + (m + i) * ldc + n0 + r0;
        for (int r = 0; r < nr; ++r) {
          const float v = bias ? tile[i * 4 + r] + bias[n0 + r0 + r] : tile[i * 4 + r];
          ci[r] = accumulate ? ci[r] + v : v;
        }
      }
    }
  }
}

// C (M, N) += A (M, K) · Bᵀ for a dense f32 B (N, K): row blocks of B across threads.
void accumulate_a_bt(core::ThreadPool& pool, const float* a, int64_t lda, int64_t M, const float* b, int64_t ldb,
                     int64_t N, int64_t K, float* c, int64_t ldc) {
  pool.run_tasks((N + kRowBlock - 1) / kRowBlock, [&](int64_t blk) {
    const int64_t n0 = blk * kRowBlock, n1 = std::min(N, n0 + kRowBlock);
    const float* rows[kRowBlock];
    for (int64_t n = n0; n < n1; ++n) rows[n - n0] = b + n * ldb;
    rows_times_block(a, lda, M, rows, n1 - n0, K, c, ldc, n0, nullptr, true);
  });
}

// dst (cols, rows) = srcᵀ for src (rows, cols) with row stride ld; 32×32 blocks keep both sides in cache.
void transpose(core::ThreadPool& pool, const float* src, int64_t ld, int64_t rows, int64_t cols, float* dst) {
  constexpr int64_t kT = 32;
  pool.parallel_for((cols + kT - 1) / kT, [&](int64_t cb0, int64_t cb1) {
    for (int64_t c0 = cb0 * kT; c0 < std::min(cols, cb1 * kT); c0 += kT)
      for (int64_t r0 = 0; r0 < rows; r0 += kT)
        for (int64_t c = c0; c < std::min(cols, c0 + kT); ++c)
          for (int64_t r = r0; r < std::min(rows, r0 + kT); ++r) dst[c * rows + r] = src[r * ld + c];
  });
}

// With blas, from this many input rows on products go through OpenBLAS (blocked for the caches, ~1.5× faster
// here); fewer rows (decode) keep the fused quantized dots, which read each weight once.
constexpr int64_t kBlasMinRows = 16;
constexpr int64_t kDequantRows = 256;  // weight rows dequantized per sgemm of a quantized matrix

// Row n of a block-typed weight matrix w (N, K) into dst (K floats): SIMD where the type has a kernel.
void dequantize_weight_row(const core::TensorView& w, int64_t n, float* dst) {
  const int64_t K = w.size(1);
  const auto* src = static_cast<const uint8_t*>(w.data) + n * core::dtype_bytes(w.dtype, K);
  if (cpu::has_quant_dot(w.dtype)) {
    cpu::dequantize_row_simd(w.dtype, src, dst, K);
  } else {
    quant::dequantize_row(w.dtype, src, dst, K);
  }
}

// y = x · wᵀ (+ bias) by sgemm: f32 weights directly, others kDequantRows rows at a time.
void blas_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                  const core::TensorView& w, const float* bias) {
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  if (w.dtype == DType::kF32) {
    cpu::sgemm(pool, false, true, M, N, K, x.f32(), x.strides[0], w.f32(), K, 0.0f, y.f32(), y.strides[0]);
  } else {
    thread_local std::vector<float> wbuf;
    wbuf.resize((size_t)(std::min(N, kDequantRows) * K));
    for (int64_t n0 = 0; n0 < N; n0 += kDequantRows) {
      const int64_t n = std::min(kDequantRows, N - n0);
      float* buf = wbuf.data();  // this thread's buffer: the workers' thread_local copies are others
      pool.parallel_for(n, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) dequantize_weight_row(w, n0 + r, buf + r * K);
      });
      cpu::sgemm(pool, false, true, M, n, K, x.f32(), x.strides[0], buf, K, 0.0f, y.f32() + n0, y.strides[0]);
    }
  }
  if (bias)
    pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m)
        for (int64_t n = 0; n < N; ++n) y.f32()[m * y.strides[0] + n] += bias[n];
    });
}

}  // namespace

void linear_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                    const core::TensorView& w, const core::TensorView& bias, Gemm gemm) {
  check_linear_shapes("linear_forward", y, x, w, bias);
  const bool blas = gemm != Gemm::kExact;
  LLAMBA_ENSURE(x.dtype == DType::kF32 && y.dtype == DType::kF32, "[linear_forward] x, y must be f32");
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  const float* b = bias.data ? bias.f32() : nullptr;
  const int64_t n_blocks = (N + kRowBlock - 1) / kRowBlock;
  const int64_t row_bytes = core::dtype_bytes(w.dtype, K);
  // Decoding in registers costs a few instructions per weight and input row; beyond a few rows one dequantized
  // copy shared by all of them is cheaper.
  constexpr int64_t kMaxFusedRows = 3;
  if (M <= kMaxFusedRows && cpu::has_quant_dot(w.dtype)) {
    pool.run_tasks(n_blocks, [&](int64_t blk) {
      const int64_t n0 = blk * kRowBlock, n1 = std::min(N, n0 + kRowBlock);
      for (int64_t m = 0; m < M; ++m) {
        const float* xm = x.f32() + m * x.strides[0];
        float* ym = y.f32() + m * y.strides[0];
        for (int64_t n = n0; n < n1; n += 8) {
          const int nr = (int)std::min<int64_t>(8, n1 - n);
          const uint8_t* rows[8];
          for (int r = 0; r < nr; ++r) rows[r] = static_cast<const uint8_t*>(w.data) + (n + r) * row_bytes;
          cpu::dot_rows_quant(w.dtype, xm, rows, nr, K, ym + n);
          if (b)
            for (int r = 0; r < nr; ++r) ym[n + r] += b[n + r];
        }
      }
    });
    return;
  }
  if (blas && M >= kBlasMinRows) {
    blas_forward(pool, y, x, w, b);
    return;
  }
  pool.run_tasks(n_blocks, [&](int64_t blk) {
    thread_local std::vector<float> wbuf;
    const int64_t n0 = blk * kRowBlock, n1 = std::min(N, n0 + kRowBlock);
    const float* rows[kRowBlock];
    if (w.dtype == DType::kF32) {
      for (int64_t n = n0; n < n1; ++n) rows[n - n0] = w.f32() + n * K;
    } else {
      wbuf.resize((size_t)(kRowBlock * K));
      for (int64_t n = n0; n < n1; ++n) {
        rows[n - n0] = wbuf.data() + (n - n0) * K;
        dequantize_weight_row(w, n, wbuf.data() + (n - n0) * K);
      }
    }
    rows_times_block(x.f32(), x.strides[0], M, rows, n1 - n0, K, y.f32(), y.strides[0], n0, b, false);
  });
}

void linear_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                     const core::TensorView& dbias, const core::TensorView& dy, const core::TensorView& x,
                     const core::TensorView& w, bool blas) {
  check_linear_backward("linear_backward", dx, dw, dbias, dy, x, w);
  const int64_t M = dy.size(0), N = dy.size(1);
  if (M == 0) return;
  // Scratch for the transposed operands, kept per calling thread so that training steps reuse it.
  thread_local std::vector<float> t_a, t_b;
  const bool use_blas = blas && M >= kBlasMinRows;
  if (use_blas && (!dx.data || w.dtype == DType::kF32)) {
    if (dx.data)  // dx (M, K) += dy (M, N) · w (N, K)
      cpu::sgemm(pool, false, false, M, dx.size(1), N, dy.f32(), dy.strides[0], w.f32(), dx.size(1), 1.0f, dx.f32(),
                 dx.strides[0]);
    if (dw.data)  // dw (N, K) += dyᵀ · x
      cpu::sgemm(pool, true, false, N, dw.size(1), M, dy.f32(), dy.strides[0], x.f32(), x.strides[0], 1.0f, dw.f32(),
                 dw.size(1));
  } else if (dx.data) {  // dx[m, k] += Σ_n dy[m, n] · wᵀ[k, n]
    LLAMBA_ENSURE(w.dtype == DType::kF32, "[linear_backward] w must be f32 for dx, got {}", core::dtype_name(w.dtype));
    const int64_t K = dx.size(1);
    t_b.resize((size_t)(K * N));
    transpose(pool, w.f32(), K, N, K, t_b.data());
    accumulate_a_bt(pool, dy.f32(), dy.strides[0], M, t_b.data(), N, K, N, dx.f32(), dx.strides[0]);
  }
  if (dw.data && !use_blas) {  // dw[n, k] += Σ_m dyᵀ[n, m] · xᵀ[k, m]
    const int64_t K = dw.size(1);
    t_a.resize((size_t)(N * M));
    t_b.resize((size_t)(K * M));
    transpose(pool, dy.f32(), dy.strides[0], M, N, t_a.data());
    transpose(pool, x.f32(), x.strides[0], M, K, t_b.data());
    accumulate_a_bt(pool, t_a.data(), M, N, t_b.data(), M, K, M, dw.f32(), K);
  }
  if (dbias.data) {
    auto dy_at = [&](int64_t m, int64_t n) { return dy.f32()[m * dy.strides[0] + n]; };
    pool.parallel_for(N, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        float s = 0;
        for (int64_t m = 0; m < M; ++m) s += dy_at(m, n);
        dbias.f32()[n] += s;
      }
    });
  }
}

}  // namespace llamba::ops::cpu
