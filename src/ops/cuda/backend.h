// ops::cuda::Backend: what a CUDA ops::Context carries — the GPU it runs on, one stream that every op of the
// context is queued on, a cuBLAS handle bound to that stream (fp32 math, no TF32) with its own workspace, a
// device workspace for an op's scratch, and an upload arena for the small host arrays ops take (token ids,
// positions, frequencies). Host code of the CUDA layer only (it includes the CUDA runtime and cuBLAS headers).
// Thread safety: one op at a time, like its context.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <initializer_list>

namespace llamba::ops::cuda {

// Throws llamba::Error "[op] CUDA error <name> (<text>) in <what>" unless `e` is cudaSuccess.
void check(cudaError_t e, const char* op, const char* what);
void check(cublasStatus_t s, const char* op, const char* what);

#define LLAMBA_CUDA_TRY(op, expr) ::llamba::ops::cuda::check((expr), op, #expr)

class Backend {
 public:
  explicit Backend(int device);
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t blas() const { return blas_; }
  int sm_count() const { return sm_count_; }

  // Device scratch of at least `bytes` for the op being queued. The next op may reuse it: stream order puts this
  // op's kernels before the next one's. Growing waits for the stream, then reallocates.
  void* workspace(size_t bytes);

  struct HostArray {
    const void* data;
    size_t bytes;
  };
  static constexpr int kMaxUploads = 4;
  // Copies up to kMaxUploads host arrays to device memory in one transfer on the stream (through pinned staging,
  // so the call does not wait for the stream) and returns their device addresses (256-byte aligned), valid for
  // the op being queued. Reusing the staging waits for the previous upload's transfer only.
  std::array<void*, kMaxUploads> upload(std::initializer_list<HostArray> arrays);

  // Makes `device()` current on the calling thread (cudaSetDevice); every entry point calls it first.
  void make_current() const;

 private:
  int device_ = 0;
  int sm_count_ = 0;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  void* blas_workspace_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  void* upload_dev_ = nullptr;
  void* upload_host_ = nullptr;  // pinned
  size_t upload_bytes_ = 0;
  cudaEvent_t upload_done_ = nullptr;
  bool upload_pending_ = false;
};

}  // namespace llamba::ops::cuda
