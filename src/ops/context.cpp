#include "ops/context.h"

namespace llamba::ops {

Context::Context(int n_threads) : owned_(std::make_unique<core::ThreadPool>(n_threads)), pool_(owned_.get()) {}

Context::Context(core::ThreadPool& pool) : pool_(&pool) {}

void no_kernel(const Context& ctx, const char* op) {
  LLAMBA_THROW("[{}] no kernel for device {}", op, core::device_name(ctx.device()));
}

void check_device(const Context& ctx, const char* op, const core::TensorView& v) {
  LLAMBA_ENSURE(!v.data || v.device == ctx.device(), "[{}] a tensor {} is on {}, the context runs on {}", op,
                v.shape.str(), core::device_name(v.device), core::device_name(ctx.device()));
}

}  // namespace llamba::ops
