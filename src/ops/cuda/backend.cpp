// The CUDA backend: stream, cuBLAS handle, workspaces and uploads (backend.h); device tensors and copies (cuda.h).
#include "ops/cuda/backend.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "core/check.h"
#include "ops/cuda/cuda.h"

namespace llamba::ops::cuda {

namespace {

constexpr size_t kBlasWorkspaceBytes = size_t(32) << 20;  // cuBLAS's advice for Hopper
constexpr size_t kAlign = 256;

size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

const char* blas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
  }
}

}  // namespace

void check(cudaError_t e, const char* op, const char* what) {
  if (e == cudaSuccess) [[likely]]
    return;
  cudaGetLastError();  // clear a non-sticky error so that the next call does not report it again
  LLAMBA_THROW("[{}] CUDA error {} ({}) in {}", op, cudaGetErrorName(e), cudaGetErrorString(e), what);
}

void check(cublasStatus_t s, const char* op, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) [[likely]]
    return;
  LLAMBA_THROW("[{}] {} ({}) in {}", op, blas_status_name(s), (int)s, what);
}

Backend::Backend(int device) : device_(device) {
  constexpr const char* op = "cuda::Backend";
  LLAMBA_CUDA_TRY(op, cudaSetDevice(device));
  LLAMBA_CUDA_TRY(op, cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, device));
  LLAMBA_CUDA_TRY(op, cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  LLAMBA_CUDA_TRY(op, cudaEventCreateWithFlags(&upload_done_, cudaEventDisableTiming));
  LLAMBA_CUDA_TRY(op, cublasCreate(&blas_));
  LLAMBA_CUDA_TRY(op, cublasSetStream(blas_, stream_));
  // Plain fp32 products (no TF32): the CUDA linear keeps the CPU op's fp32 contract.
  LLAMBA_CUDA_TRY(op, cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH));
  LLAMBA_CUDA_TRY(op, cudaMalloc(&blas_workspace_, kBlasWorkspaceBytes));
  LLAMBA_CUDA_TRY(op, cublasSetWorkspace(blas_, blas_workspace_, kBlasWorkspaceBytes));
}

Backend::~Backend() {
  // No throwing here: errors at teardown are dropped (the stream's work is finished or abandoned either way).
  cudaSetDevice(device_);
  if (stream_) cudaStreamSynchronize(stream_);
  if (blas_) cublasDestroy(blas_);
  cudaFree(blas_workspace_);
  cudaFree(workspace_);
  cudaFree(upload_dev_);
  if (upload_host_) cudaFreeHost(upload_host_);
  if (upload_done_) cudaEventDestroy(upload_done_);
  if (stream_) cudaStreamDestroy(stream_);
  cudaGetLastError();
}

void Backend::make_current() const { LLAMBA_CUDA_TRY("cuda", cudaSetDevice(device_)); }

void* Backend::workspace(size_t bytes) {
  if (bytes <= workspace_bytes_) return workspace_;
  constexpr const char* op = "cuda::Backend::workspace";
  LLAMBA_CUDA_TRY(op, cudaStreamSynchronize(stream_));
  LLAMBA_CUDA_TRY(op, cudaFree(workspace_));
  workspace_ = nullptr;
  workspace_bytes_ = 0;
  const size_t n = align_up(bytes);
  LLAMBA_CUDA_TRY(op, cudaMalloc(&workspace_, n));
  workspace_bytes_ = n;
  return workspace_;
}

std::array<void*, Backend::kMaxUploads> Backend::upload(std::initializer_list<HostArray> arrays) {
  constexpr const char* op = "cuda::Backend::upload";
  LLAMBA_CHECK(arrays.size() <= (size_t)kMaxUploads, "{} arrays in one upload", arrays.size());
  size_t total = 0;
  for (const HostArray& a : arrays) total += align_up(a.bytes);
  // The staging buffer may still be read by the previous upload's transfer.
  if (upload_pending_) LLAMBA_CUDA_TRY(op, cudaEventSynchronize(upload_done_));
  upload_pending_ = false;
  if (total > upload_bytes_) {
    LLAMBA_CUDA_TRY(op, cudaStreamSynchronize(stream_));  // earlier ops may still read the device arena
    LLAMBA_CUDA_TRY(op, cudaFree(upload_dev_));
    if (upload_host_) LLAMBA_CUDA_TRY(op, cudaFreeHost(upload_host_));
    upload_dev_ = upload_host_ = nullptr;
    upload_bytes_ = 0;
    const size_t n = std::max<size_t>(total, size_t(64) << 10);
    LLAMBA_CUDA_TRY(op, cudaMalloc(&upload_dev_, n));
    LLAMBA_CUDA_TRY(op, cudaMallocHost(&upload_host_, n));
    upload_bytes_ = n;
  }
  std::array<void*, kMaxUploads> out{};
  size_t off = 0;
  int i = 0;
  for (const HostArray& a : arrays) {
    if (a.bytes) std::memcpy(static_cast<char*>(upload_host_) + off, a.data, a.bytes);
    out[i++] = static_cast<char*>(upload_dev_) + off;
    off += align_up(a.bytes);
  }
  if (total == 0) return out;
  LLAMBA_CUDA_TRY(op, cudaMemcpyAsync(upload_dev_, upload_host_, total, cudaMemcpyHostToDevice, stream_));
  LLAMBA_CUDA_TRY(op, cudaEventRecord(upload_done_, stream_));
  upload_pending_ = true;
  return out;
}

bool available(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (why) *why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    return false;
  }
  if (n == 0) {
    if (why) *why = "no CUDA device";
    return false;
  }
  return true;
}

std::shared_ptr<Backend> make_backend(int device) {
  std::string why;
  LLAMBA_ENSURE(available(&why), "no CUDA device can be used: {}", why);
  return std::make_shared<Backend>(device);
}

core::Tensor empty(Backend& be, core::DType dtype, const core::Shape& shape) {
  be.make_current();
  const size_t bytes = (size_t)core::dtype_bytes(dtype, shape.numel());
  void* p = nullptr;
  if (bytes) LLAMBA_CUDA_TRY("cuda::empty", cudaMalloc(&p, bytes));
  auto buf = core::Buffer::adopt(static_cast<uint8_t*>(p), bytes, core::Device::kCuda, [](uint8_t* q) { cudaFree(q); });
  core::TensorView v = core::TensorView::contiguous(p, dtype, shape);
  v.device = core::Device::kCuda;
  return core::Tensor(std::move(buf), v);
}

core::Tensor filled(Backend& be, core::DType dtype, const core::Shape& shape, uint8_t byte) {
  core::Tensor t = empty(be, dtype, shape);
  if (t.numel() > 0) {
    LLAMBA_CUDA_TRY("cuda::filled", cudaMemsetAsync(t.view().data, byte, (size_t)t.view().nbytes(), be.stream()));
    synchronize(be);
  }
  return t;
}

core::Tensor to_device(Backend& be, const core::TensorView& host) {
  LLAMBA_ENSURE(host.device == core::Device::kCpu, "cuda::to_device: the tensor {} is already on {}",
                host.shape.str(), core::device_name(host.device));
  const core::Tensor packed = host.is_contiguous() ? core::Tensor() : core::Tensor::copy_of(host);
  const core::TensorView& src = packed.empty() ? host : packed.view();
  core::Tensor t = empty(be, host.dtype, host.shape);
  if (t.numel() > 0) {
    LLAMBA_CUDA_TRY("cuda::to_device", cudaMemcpyAsync(t.view().data, src.data, (size_t)src.nbytes(),
                                                       cudaMemcpyHostToDevice, be.stream()));
    synchronize(be);
  }
  return t;
}

core::Tensor to_host(Backend& be, const core::TensorView& dev) {
  LLAMBA_ENSURE(dev.device == core::Device::kCuda, "cuda::to_host: the tensor {} is on {}", dev.shape.str(),
                core::device_name(dev.device));
  be.make_current();
  core::Tensor t = core::Tensor::zeros(dev.dtype, dev.shape);
  if (t.numel() == 0) return t;
  if (dev.is_contiguous()) {
    LLAMBA_CUDA_TRY("cuda::to_host", cudaMemcpyAsync(t.view().data, dev.data, (size_t)t.view().nbytes(),
                                                     cudaMemcpyDeviceToHost, be.stream()));
    synchronize(be);
    return t;
  }
  // A strided dense view: the span from its first to its last element comes over in one copy, then the view's
  // elements are gathered from it on the host.
  LLAMBA_ENSURE(!core::dtype_info(dev.dtype).is_quantized, "cuda::to_host: a strided quantized view {}",
                dev.shape.str());
  int64_t span = 1;
  for (int i = 0; i < dev.rank(); ++i) {
    LLAMBA_ENSURE(dev.strides[i] >= 0, "cuda::to_host: negative stride in {}", dev.shape.str());
    span += (dev.size(i) - 1) * dev.strides[i];
  }
  core::Tensor raw = core::Tensor::zeros(dev.dtype, {span});
  LLAMBA_CUDA_TRY("cuda::to_host", cudaMemcpyAsync(raw.view().data, dev.data, (size_t)raw.view().nbytes(),
                                                   cudaMemcpyDeviceToHost, be.stream()));
  synchronize(be);
  core::TensorView strided = dev;
  strided.data = raw.view().data;
  strided.device = core::Device::kCpu;
  return core::Tensor::copy_of(strided);
}

void synchronize(Backend& be) { LLAMBA_CUDA_TRY("cuda::synchronize", cudaStreamSynchronize(be.stream())); }

void zero_async(Backend& be, void* dst, size_t bytes) {
  if (bytes) LLAMBA_CUDA_TRY("cuda::zero_async", cudaMemsetAsync(dst, 0, bytes, be.stream()));
}

void copy_async(Backend& be, void* dst, const void* src, size_t bytes) {
  if (bytes && dst != src)
    LLAMBA_CUDA_TRY("cuda::copy_async", cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, be.stream()));
}

}  // namespace llamba::ops::cuda
