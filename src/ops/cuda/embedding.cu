// embedding forward on the GPU: one block per token copies (decodes) its table row; the decoded values are those
// of quant::dequantize_row, exactly.
#include "ops/cuda/common.cuh"
#include "ops/cuda/dequant.cuh"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda::kernels {

namespace {

template <class Dec>
__global__ void embedding_forward_kernel(float* out, int64_t ldo, const uint8_t* table, int64_t row_bytes,
                                         const int32_t* ids, int64_t D) {
  const uint8_t* row = table + (int64_t)ids[blockIdx.x] * row_bytes;
  float* o = out + (int64_t)blockIdx.x * ldo;
  for (int64_t k = threadIdx.x; k < D; k += blockDim.x) o[k] = Dec::at(row, k);
}

}  // namespace

cudaError_t embedding_forward(cudaStream_t s, float* out, int64_t ldo, const void* table, core::DType dt,
                              const int32_t* ids, int64_t T, int64_t D) {
  if (T == 0 || D == 0) return cudaSuccess;
  const int threads = D >= 256 ? 256 : 64;
  const bool known = with_decoder(dt, [&](auto dec) {
    embedding_forward_kernel<decltype(dec)><<<(unsigned)T, threads, 0, s>>>(
        out, ldo, static_cast<const uint8_t*>(table), row_bytes(dt, D), ids, D);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace llamba::ops::cuda::kernels
