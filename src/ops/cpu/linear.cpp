// linear on the CPU. Forward: output features split into blocks across threads; each block's weight rows are
// dequantized once into a thread-local buffer and dotted (SIMD) with every input row, or, for a few input rows
// (decode), dotted straight from their quantized blocks (same result, bit for bit, at a quarter of the traffic). Backward: (row block,
// column block) tiles of dx and dw across threads, each summed with SIMD axpy in a local buffer and added once.
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/linear.h"

#include <algorithm>
#include <vector>

#include "ops/cpu/dot.h"
#include "ops/cpu/quant_dot.h"
#include "ops/check_shapes.h"
#include "quant/quant.h"

namespace llamba::ops {

using core::DType;

void linear_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                    const core::TensorView& w, const core::TensorView& bias) {
  check_linear_shapes("linear_forward", y, x, w, bias);
  LLAMBA_CHECK(x.dtype == DType::kF32 && y.dtype == DType::kF32, "[linear_forward] x, y must be f32");
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  const float* b = bias.data ? bias.f32() : nullptr;
  constexpr int64_t kRowBlock = 16;
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
        for (int64_t n = n0; n < n1; n += 4) {
          const int nr = (int)std::min<int64_t>(4, n1 - n);
          const uint8_t* rows[4];
          for (int r = 0; r < nr; ++r) rows[r] = static_cast<const uint8_t*>(w.data) + (n + r) * row_bytes;
          cpu::dot_rows_quant(w.dtype, xm, rows, nr, K, ym + n);
          if (b)
            for (int r = 0; r < nr; ++r) ym[n + r] += b[n + r];
        }
      }
    });
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
        quant::dequantize_row(w.dtype, static_cast<const uint8_t*>(w.data) + n * row_bytes, wbuf.data() + (n - n0) * K,
                              K);
        rows[n - n0] = wbuf.data() + (n - n0) * K;
      }
    }
    for (int64_t m = 0; m < M; ++m) {
      const float* xm = x.f32() + m * x.strides[0];
      float* ym = y.f32() + m * y.strides[0];
      for (int64_t n = n0; n < n1; n += 4) {
        const int nr = (int)std::min<int64_t>(4, n1 - n);
        cpu::dot_rows(xm, rows + (n - n0), nr, K, ym + n);
        if (b)
          for (int r = 0; r < nr; ++r) ym[n + r] += b[n + r];
      }
    }
  });
}

void linear_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                     const core::TensorView& dbias, const core::TensorView& dy, const core::TensorView& x,
                     const core::TensorView& w) {
  check_linear_backward("linear_backward", dx, dw, dbias, dy, x, w);
  const int64_t M = dy.size(0), N = dy.size(1);
  constexpr int64_t kRows = 8, kCols = 512;
  auto dy_at = [&](int64_t m, int64_t n) { return dy.f32()[m * dy.strides[0] + n]; };
  if (dx.data) {  // dx[m, :] += Σ_n dy[m, n] · w[n, :], tiles of kRows rows × kCols columns
    LLAMBA_CHECK(w.dtype == DType::kF32, "[linear_backward] w must be f32 for dx, got {}", core::dtype_name(w.dtype));
    const int64_t K = dx.size(1), mb = (M + kRows - 1) / kRows, kb = (K + kCols - 1) / kCols;
    pool.run_tasks(mb * kb, [&](int64_t task) {
      const int64_t m0 = task / kb * kRows, m1 = std::min(M, m0 + kRows);
      const int64_t k0 = task % kb * kCols, nk = std::min(K, k0 + kCols) - k0;
      float acc[kRows * kCols] = {};
      for (int64_t n = 0; n < N; ++n) {
        const float* wn = w.f32() + n * K + k0;
        for (int64_t m = m0; m < m1; ++m) cpu::axpy(dy_at(m, n), wn, acc + (m - m0) * kCols, nk);
      }
      for (int64_t m = m0; m < m1; ++m) cpu::axpy(1.0f, acc + (m - m0) * kCols, dx.f32() + m * dx.strides[0] + k0, nk);
    });
  }
  if (dw.data) {  // dw[n, :] += Σ_m dy[m, n] · x[m, :], tiles of kRows weight rows × kCols columns
    const int64_t K = dw.size(1), nb = (N + kRows - 1) / kRows, kb = (K + kCols - 1) / kCols;
    pool.run_tasks(nb * kb, [&](int64_t task) {
      const int64_t n0 = task / kb * kRows, n1 = std::min(N, n0 + kRows);
      const int64_t k0 = task % kb * kCols, nk = std::min(K, k0 + kCols) - k0;
      float acc[kRows * kCols] = {};
      for (int64_t m = 0; m < M; ++m) {
        const float* xm = x.f32() + m * x.strides[0] + k0;
        for (int64_t n = n0; n < n1; ++n) cpu::axpy(dy_at(m, n), xm, acc + (n - n0) * kCols, nk);
      }
      for (int64_t n = n0; n < n1; ++n) cpu::axpy(1.0f, acc + (n - n0) * kCols, dw.f32() + n * K + k0, nk);
    });
  }
  if (dbias.data) {
    pool.parallel_for(N, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        float s = 0;
        for (int64_t m = 0; m < M; ++m) s += dy_at(m, n);
        dbias.f32()[n] += s;
      }
    });
  }
}

}  // namespace llamba::ops
