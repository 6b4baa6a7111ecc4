// ops::Context: where and how ops run. Every op, model, session, trainer and evaluation call takes one instead
// of a bare thread pool. A CPU context holds a thread pool; a CUDA context (built with -DLLAMBA_CUDA=ON) holds an
// ops::cuda::Backend (a stream, a cuBLAS handle, workspaces; ops/cuda/cuda.h). ops::X checks that its tensors live
// on the context's device and runs that device's kernel, ops::cpu::X or ops::cuda::X; an op without a CUDA kernel
// throws on a CUDA context. The fp64 oracle ops::ref::X needs no context.
// Thread safety: like its pool or stream, a context runs one op at a time.
#pragma once

#include <memory>

#include "core/check.h"
#include "core/device.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

namespace cuda {
class Backend;  // ops/cuda/backend.h; only the CUDA layer sees inside it
}
class Arena;  // ops/memory.h: the context's scratch memory

// How CPU matrix products of many rows are computed. kExact (default): tiled SIMD dots whose result for a row does
// not depend on how many rows are multiplied together, so batched = one at a time and prefill = decode bit for
// bit. kBlas: from 16 rows on, OpenBLAS sgemm (~1.5× faster on training and prefill shapes here); a row's result
// then depends on the batch in the last bits. Training and distillation choose kBlas. kReduced: on a CUDA context,
// products of more than 8 rows run on tensor cores with fp32 accumulation: bf16 weights against x rounded to bf16,
// every other weight type in TF32 (x and w rounded to 10-bit mantissas); about 2^-8 relative instead of fp32's
// error (ops/cuda/linear.cpp). On the CPU it is kBlas.
enum class Gemm { kExact, kBlas, kReduced };

class Context {
 public:
  // A CPU context with its own pool of `n_threads` threads (<= 0: one per hardware thread).
  explicit Context(int n_threads = 0);
  // A CPU context over a pool owned elsewhere (which must outlive it).
  explicit Context(core::ThreadPool& pool);
  // A CUDA context: ops run on `backend`'s stream (ops::cuda::make_backend); its pool has one thread.
  explicit Context(std::shared_ptr<cuda::Backend> backend);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  core::Device device() const { return device_; }
  core::ThreadPool& pool() const { return *pool_; }  // the CPU backend's threads
  int n_threads() const { return pool_->size(); }
  Gemm gemm() const { return gemm_; }
  void set_gemm(Gemm g) { gemm_ = g; }
  // The CUDA backend; throws llamba::Error on a CPU context.
  cuda::Backend& cuda() const;
  // Where ops::Scratch takes its temporaries from (ops/memory.h); memory of the context's device.
  Arena& arena() { return *arena_; }

 private:
  std::unique_ptr<core::ThreadPool> owned_;
  core::ThreadPool* pool_ = nullptr;
  std::shared_ptr<cuda::Backend> cuda_;
  std::unique_ptr<Arena> arena_;
  core::Device device_ = core::Device::kCpu;
  Gemm gemm_ = Gemm::kExact;
};

// Throws llamba::Error: `op` has no kernel for the context's device.
[[noreturn]] void no_kernel(const Context& ctx, const char* op);
// Throws llamba::Error naming `op` when a tensor argument (with data) lives on another device than `ctx`.
void check_device(const Context& ctx, const char* op, const core::TensorView& v);
template <class T>
void check_device(const Context&, const char*, const T&) {}  // arguments that are not tensors

// Runs `cpu_kernel(pool)` after checking every tensor argument's device; other devices throw (no kernel).
template <class CpuKernel, class... Args>
decltype(auto) dispatch(Context& ctx, const char* op, CpuKernel&& cpu_kernel, const Args&... args) {
  (check_device(ctx, op, args), ...);
  if (ctx.device() != core::Device::kCpu) no_kernel(ctx, op);
  return cpu_kernel(ctx.pool());
}

// The same for an op with a CUDA kernel too: `cuda_kernel(backend)` on a CUDA context.
template <class CpuKernel, class CudaKernel, class... Args>
decltype(auto) dispatch_cpu_cuda(Context& ctx, const char* op, CpuKernel&& cpu_kernel, CudaKernel&& cuda_kernel,
                                 const Args&... args) {
  (check_device(ctx, op, args), ...);
  if (ctx.device() == core::Device::kCuda) return cuda_kernel(ctx.cuda());
  return cpu_kernel(ctx.pool());
}

}  // namespace llamba::ops

// The body of a dispatching op ops::X(ctx, args...): runs ops::cpu::X(pool, args...) on a CPU context.
#define LLAMBA_DISPATCH(ctx, op, ...)                                                                                  \
  ::llamba::ops::dispatch(                                                                                             \
      ctx, #op, [&](::llamba::core::ThreadPool& cpu_pool_) { return ::llamba::ops::cpu::op(cpu_pool_, __VA_ARGS__); }, \
      __VA_ARGS__)

// The same for an op that also has ops::cuda::X(backend, args...) (declared in its header). Without the CUDA
// layer (-DLLAMBA_CUDA=OFF, the default) it is LLAMBA_DISPATCH exactly, so no CUDA symbol is referenced.
#if defined(LLAMBA_WITH_CUDA)
#define LLAMBA_DISPATCH_CUDA(ctx, op, ...)                                                                             \
  ::llamba::ops::dispatch_cpu_cuda(                                                                                    \
      ctx, #op, [&](::llamba::core::ThreadPool& cpu_pool_) { return ::llamba::ops::cpu::op(cpu_pool_, __VA_ARGS__); }, \
      [&](::llamba::ops::cuda::Backend& cuda_backend_) { return ::llamba::ops::cuda::op(cuda_backend_, __VA_ARGS__); }, \
      __VA_ARGS__)
#else
#define LLAMBA_DISPATCH_CUDA(ctx, op, ...) LLAMBA_DISPATCH(ctx, op, __VA_ARGS__)
#endif
