// rope forward on the GPU: one block per token. Its angles a = (float)pos · inv_freq[i] in fp32 and cos/sin of
// them in double, rounded to float (as the CPU op), go to shared memory; then every (head, pair) is rotated in
// place with the CPU op's operations.
#include "ops/cuda/common.cuh"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda::kernels {

namespace {

__global__ void rope_forward_kernel(float* x, int64_t st, int64_t sh, int64_t H, const int64_t* positions,
                                    const float* inv_freq, int64_t half, bool interleaved) {
  extern __shared__ float cs[];  // cos[half], sin[half]
  const int64_t t = blockIdx.x;
  for (int64_t i = threadIdx.x; i < half; i += blockDim.x) {
    const float a = (float)positions[t] * inv_freq[i];
    cs[i] = (float)cos((double)a);
    cs[half + i] = (float)sin((double)a);
  }
  __syncthreads();
  for (int64_t j = threadIdx.x; j < H * half; j += blockDim.x) {
    const int64_t h = j / half, i = j - h * half;
    float* p = x + t * st + h * sh;
    float* pa = interleaved ? p + 2 * i : p + i;
    float* pb = interleaved ? p + 2 * i + 1 : p + i + half;
    const float x0 = *pa, x1 = *pb, c = cs[i], s = cs[half + i];
    *pa = x0 * c - x1 * s;
    *pb = x1 * c + x0 * s;
  }
}

}  // namespace

cudaError_t rope_forward(cudaStream_t s, float* x, int64_t st, int64_t sh, int64_t T, int64_t H,
                         const int64_t* positions, const float* inv_freq, int64_t half, bool interleaved) {
  if (T == 0 || H == 0 || half == 0) return cudaSuccess;
  const int threads = H * half >= 256 ? 256 : 64;
  const size_t smem = (size_t)(2 * half) * sizeof(float);
  rope_forward_kernel<<<(unsigned)T, threads, smem, s>>>(x, st, sh, H, positions, inv_freq, half, interleaved);
  return cudaGetLastError();
}

}  // namespace llamba::ops::cuda::kernels
