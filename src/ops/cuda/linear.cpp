// linear on the GPU, host entry. y = x · wᵀ (+ bias) in fp32, as the CPU op:
// - f32 weights: one cuBLAS SGEMM (CUBLAS_DEFAULT_MATH: fp32 multiply-adds, no TF32), then the bias;
// - other types (kernels::decodes), at most kernels::kMaxFusedRows rows: the fused kernel, decoding each weight
//   once in registers (ops/cuda/linear.cu);
// - other types, more rows: slabs of weight rows decoded to f32 in the backend's workspace, one SGEMM per slab.
// With Gemm::kReduced, products of more than kernels::kMaxFusedRows rows run on tensor cores, fp32 accumulation:
// bf16 weights as stored against x rounded to bf16 (cublasGemmEx, CUBLAS_COMPUTE_32F); f32 weights, and the f32
// slabs of the other types, in TF32 (CUBLAS_COMPUTE_32F_FAST_TF32). Few rows keep the fused kernel: decode reads
// the weights once either way, and its result stays exact.
// A row's result may depend on M in the last bits (cuBLAS picks kernels by shape), like the CPU's Gemm::kBlas.
#include "ops/linear.h"

#include <algorithm>
#include <climits>

#include "ops/check_shapes.h"
#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda {

namespace {

constexpr size_t kSlabBytes = size_t(64) << 20;  // decoded weight rows per SGEMM, at most

// y[:, n0 : n0 + n] = x · w_rowsᵀ for w_rows (n, K) f32 contiguous. Row-major Y (M, N) is column-major Yᵀ, so
// Yᵀ = W · Xᵀ: cuBLAS's A = W as stored (K × n column-major, transposed), B = X (K × M column-major).
// tf32: the same on tensor cores, inputs rounded to TF32.
void sgemm_rows(Backend& be, const char* op, float* y, int64_t ldy, const float* x, int64_t ldx, const float* w_rows,
                int64_t M, int64_t n, int64_t K, bool tf32) {
  const float one = 1.0f, zero = 0.0f;
  if (tf32) {
    LLAMBA_CUDA_TRY(op, cublasGemmEx(be.blas(), CUBLAS_OP_T, CUBLAS_OP_N, (int)n, (int)M, (int)K, &one, w_rows,
                                     CUDA_R_32F, (int)K, x, CUDA_R_32F, (int)ldx, &zero, y, CUDA_R_32F, (int)ldy,
                                     CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT));
    return;
  }
  LLAMBA_CUDA_TRY(op, cublasSgemm(be.blas(), CUBLAS_OP_T, CUBLAS_OP_N, (int)n, (int)M, (int)K, &one, w_rows, (int)K,
                                  x, (int)ldx, &zero, y, (int)ldy));
}

// y = x · wᵀ for bf16 weights (N, K) contiguous: x rounded to bf16 into the workspace, then one bf16 GEMM with
// fp32 accumulation and output.
void bf16_gemm(Backend& be, const char* op, float* y, int64_t ldy, const float* x, int64_t ldx, const void* w,
               int64_t M, int64_t N, int64_t K) {
  void* xb = be.workspace((size_t)(M * K) * 2);
  launched(op, kernels::f32_to_bf16(be.stream(), xb, x, ldx, M, K));
  const float one = 1.0f, zero = 0.0f;
  LLAMBA_CUDA_TRY(op, cublasGemmEx(be.blas(), CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)M, (int)K, &one, w, CUDA_R_16BF,
                                   (int)K, xb, CUDA_R_16BF, (int)K, &zero, y, CUDA_R_32F, (int)ldy, CUBLAS_COMPUTE_32F,
                                   CUBLAS_GEMM_DEFAULT));
}

}  // namespace

void linear_forward(Backend& be, const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                    const core::TensorView& bias, Gemm gemm) {
  constexpr const char* op = "linear_forward";
  check_linear_shapes(op, y, x, w, bias);
  LLAMBA_ENSURE(x.dtype == core::DType::kF32 && y.dtype == core::DType::kF32, "[{}] x, y must be f32", op);
  LLAMBA_ENSURE(kernels::decodes(w.dtype), "[{}] no CUDA kernel for {} weights (f32, f16, bf16, q8_0, q4_0, q4_1)",
                op, core::dtype_name(w.dtype));
  require_device(op, {&y, &x, &w, &bias});
  require_f32(op, {&bias});
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  if (M == 0 || N == 0) return;
  // cuBLAS takes int sizes and row strides of at least the row length (a single row's stride does not matter).
  const int64_t ldx = M == 1 ? std::max(x.strides[0], K) : x.strides[0];
  const int64_t ldy = M == 1 ? std::max(y.strides[0], N) : y.strides[0];
  LLAMBA_ENSURE(ldx >= K && ldy >= N, "[{}] rows of x {} or y {} overlap (row strides {}, {})", op, x.shape.str(),
                y.shape.str(), x.strides[0], y.strides[0]);
  LLAMBA_ENSURE(M <= INT_MAX && N <= INT_MAX && K <= INT_MAX && ldx <= INT_MAX && ldy <= INT_MAX,
                "[{}] sizes x {} w {} exceed cuBLAS's int range", op, x.shape.str(), w.shape.str());
  be.make_current();
  float* yp = static_cast<float*>(y.data);
  const float* xp = static_cast<const float*>(x.data);
  const float* bp = f32_or_null(bias);
  if (K == 0) {  // an empty sum: y = bias (or zeros)
    launched(op, kernels::add_bias(be.stream(), yp, ldy, bp, M, N, true));
    return;
  }
  const bool reduced = gemm == Gemm::kReduced && M > kernels::kMaxFusedRows;
  if (w.dtype == core::DType::kF32) {
    sgemm_rows(be, op, yp, ldy, xp, ldx, static_cast<const float*>(w.data), M, N, K, reduced);
  } else if (reduced && w.dtype == core::DType::kBF16) {
    bf16_gemm(be, op, yp, ldy, xp, ldx, w.data, M, N, K);
  } else if (M <= kernels::kMaxFusedRows) {
    launched(op, kernels::linear_fused_rows(be.stream(), yp, ldy, xp, ldx, w.data, w.dtype, bp, M, N, K));
    return;  // the bias is added in the kernel
  } else {
    const int64_t slab = std::clamp<int64_t>((int64_t)(kSlabBytes / sizeof(float)) / K, 1, N);
    float* buf = static_cast<float*>(be.workspace((size_t)(slab * K) * sizeof(float)));
    const int64_t w_row_bytes = core::dtype_bytes(w.dtype, K);
    for (int64_t n0 = 0; n0 < N; n0 += slab) {
      const int64_t n = std::min(slab, N - n0);
      launched(op, kernels::dequantize_rows(be.stream(), buf, static_cast<const uint8_t*>(w.data) + n0 * w_row_bytes,
                                            w.dtype, n, K));
      sgemm_rows(be, op, yp + n0, ldy, xp, ldx, buf, M, n, K, reduced);
    }
  }
  if (bp) launched(op, kernels::add_bias(be.stream(), yp, ldy, bp, M, N, false));
}

}  // namespace llamba::ops::cuda
