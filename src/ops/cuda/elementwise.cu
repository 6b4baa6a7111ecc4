// The models' small elementwise ops on the GPU: one thread per element (grid-stride), the CPU op's operations
// in its order (log1pf/expf within 2 ulp here, glibc's within 1).
#include "ops/cuda/common.cuh"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda::kernels {

namespace {

constexpr int kThreads = 256;

__global__ void elementwise_kernel(Elementwise e, int kind) {
  const int64_t n = e.M * e.F;
  for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += (int64_t)gridDim.x * blockDim.x) {
    const int64_t m = idx / e.F, i = idx - m * e.F;
    float* y = e.y + m * e.ldy + i;
    const float x = e.x[m * e.ldx + i];
    if (kind == 0) {
      *y += x;
    } else if (kind == 1) {
      *y = -(fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))));
    } else {
      *y += e.d[i / e.P] * x;
    }
  }
}

cudaError_t launch(cudaStream_t s, const Elementwise& e, int kind) {
  if (e.M * e.F == 0) return cudaSuccess;
  elementwise_kernel<<<blocks_for(e.M * e.F, kThreads), kThreads, 0, s>>>(e, kind);
  return cudaGetLastError();
}

}  // namespace

cudaError_t add_inplace(cudaStream_t s, const Elementwise& e) { return launch(s, e, 0); }
cudaError_t neg_softplus(cudaStream_t s, const Elementwise& e) { return launch(s, e, 1); }
cudaError_t skip_add(cudaStream_t s, const Elementwise& e) { return launch(s, e, 2); }

}  // namespace llamba::ops::cuda::kernels
