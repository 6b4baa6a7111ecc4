// linear on the CPU: output features split into blocks across threads; each block's weight rows are
// dequantized once into a thread-local buffer and dotted (SIMD) with every input row.
#include "ops/linear.h"

#include <vector>

#include "ops/cpu/dot.h"
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

}  // namespace llamba::ops
