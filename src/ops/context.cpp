#include "ops/context.h"

#include "ops/memory.h"

namespace llamba::ops {

Context::Context(int n_threads)
    : owned_(std::make_unique<core::ThreadPool>(n_threads)), pool_(owned_.get()), arena_(std::make_unique<Arena>()) {}

Context::Context(core::ThreadPool& pool) : pool_(&pool), arena_(std::make_unique<Arena>()) {}

Context::Context(std::shared_ptr<cuda::Backend> backend)
    : owned_(std::make_unique<core::ThreadPool>(1)), pool_(owned_.get()), cuda_(std::move(backend)),
      arena_(std::make_unique<Arena>()), device_(core::Device::kCuda) {
  LLAMBA_ENSURE(cuda_ != nullptr, "a CUDA context needs a backend (ops::cuda::make_backend)");
}

Context::~Context() = default;

cuda::Backend& Context::cuda() const {
  LLAMBA_ENSURE(cuda_ != nullptr, "this context runs on {}, not on a CUDA backend", core::device_name(device_));
  return *cuda_;
}

void no_kernel(const Context& ctx, const char* op) {
  LLAMBA_THROW("[{}] no kernel for device {}", op, core::device_name(ctx.device()));
}

void check_device(const Context& ctx, const char* op, const core::TensorView& v) {
  LLAMBA_ENSURE(!v.data || v.device == ctx.device(), "[{}] a tensor {} is on {}, the context runs on {}", op,
                v.shape.str(), core::device_name(v.device), core::device_name(ctx.device()));
}

}  // namespace llamba::ops
