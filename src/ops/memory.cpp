// Memory on a context's device (memory.h). CUDA memory goes through ops/cuda, compiled in with -DLLAMBA_CUDA=ON.
#include "ops/memory.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(LLAMBA_WITH_CUDA)
#include "ops/cuda/cuda.h"
#endif

namespace llamba::ops {

namespace {

constexpr size_t kAlign = 256;           // every view starts on a 256-byte boundary (SIMD rows, GPU loads)
constexpr size_t kMinBlock = 1u << 20;  // the first block; later ones double

[[noreturn]] void no_cuda(const char* what) {
  LLAMBA_THROW("[{}] this build has no CUDA backend (configure with -DLLAMBA_CUDA=ON)", what);
}

// Uninitialized contiguous memory on ctx's device.
core::Tensor allocate(Context& ctx, core::DType dtype, const core::Shape& shape) {
  if (ctx.device() == core::Device::kCpu) return core::Tensor::zeros(dtype, shape);
#if defined(LLAMBA_WITH_CUDA)
  return cuda::empty(ctx.cuda(), dtype, shape);
#else
  no_cuda("ops::allocate");
#endif
}

}  // namespace

core::Tensor zeros(Context& ctx, core::DType dtype, const core::Shape& shape) {
  core::Tensor t = allocate(ctx, dtype, shape);
  if (ctx.device() != core::Device::kCpu) fill_zero(ctx, t);  // host memory comes zeroed
  return t;
}

core::Tensor to_device(Context& ctx, const core::TensorView& host) {
  if (ctx.device() == core::Device::kCpu) return core::Tensor::copy_of(host);
#if defined(LLAMBA_WITH_CUDA)
  return cuda::to_device(ctx.cuda(), host);
#else
  no_cuda("ops::to_device");
#endif
}

core::Tensor to_host(Context& ctx, const core::TensorView& v) {
  if (v.device == core::Device::kCpu) return core::Tensor::copy_of(v);
#if defined(LLAMBA_WITH_CUDA)
  return cuda::to_host(ctx.cuda(), v);
#else
  (void)ctx;
  no_cuda("ops::to_host");
#endif
}

void fill_zero(Context& ctx, const core::TensorView& v) {
  check_device(ctx, "fill_zero", v);
  LLAMBA_ENSURE(v.is_contiguous(), "[fill_zero] the view {} is not contiguous", v.shape.str());
  if (!v.data || v.numel() == 0) return;
  if (ctx.device() == core::Device::kCpu) {
    std::memset(v.data, 0, (size_t)v.nbytes());
    return;
  }
#if defined(LLAMBA_WITH_CUDA)
  cuda::zero_async(ctx.cuda(), v.data, (size_t)v.nbytes());
#else
  no_cuda("ops::fill_zero");
#endif
}

void copy(Context& ctx, const core::TensorView& dst, const core::TensorView& src) {
  check_device(ctx, "copy", dst);
  check_device(ctx, "copy", src);
  LLAMBA_ENSURE(dst.is_contiguous() && src.is_contiguous() && dst.dtype == src.dtype && dst.numel() == src.numel(),
                "[copy] needs contiguous views of one dtype and size, got {} {} and {} {}", dst.shape.str(),
                core::dtype_name(dst.dtype), src.shape.str(), core::dtype_name(src.dtype));
  if (dst.numel() == 0 || dst.data == src.data) return;
  if (ctx.device() == core::Device::kCpu) {
    std::memcpy(dst.data, src.data, (size_t)dst.nbytes());
    return;
  }
#if defined(LLAMBA_WITH_CUDA)
  cuda::copy_async(ctx.cuda(), dst.data, src.data, (size_t)dst.nbytes());
#else
  no_cuda("ops::copy");
#endif
}

void* Arena::take(Context& ctx, size_t bytes) {
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  // The offset at which a view of the current block starts on a kAlign boundary (host blocks are 64-byte aligned).
  const auto start = [&] {
    const auto base = reinterpret_cast<uintptr_t>(blocks_[block_].view().data);
    return (size_t)(((base + offset_ + kAlign - 1) / kAlign * kAlign) - base);
  };
  // The current block if it has room; otherwise the next one, replaced by a larger one if too small (the
  // blocks after the current one hold nothing live: scopes give memory back in LIFO order).
  while (block_ < blocks_.size() && start() + bytes > (size_t)blocks_[block_].numel()) {
    if (block_ + 1 < blocks_.size() && (size_t)blocks_[block_ + 1].numel() < bytes + kAlign) blocks_.resize(block_ + 1);
    ++block_, offset_ = 0;
  }
  if (block_ == blocks_.size()) {
    const size_t last = blocks_.empty() ? kMinBlock / 2 : (size_t)blocks_.back().numel();
    const size_t size = std::max(bytes + kAlign, 2 * last);
    blocks_.push_back(allocate(ctx, core::DType::kU8, {(int64_t)size}));
    offset_ = 0;
  }
  offset_ = start();
  void* p = static_cast<uint8_t*>(blocks_[block_].view().data) + offset_;
  offset_ += bytes;
  return p;
}

size_t Arena::reserved() const {
  size_t n = 0;
  for (const core::Tensor& b : blocks_) n += (size_t)b.numel();
  return n;
}

core::TensorView Scratch::empty(core::DType dtype, const core::Shape& shape) {
  const int64_t bytes = core::dtype_bytes(dtype, shape.numel());
  core::TensorView v = core::TensorView::contiguous(ctx_.arena().take(ctx_, (size_t)bytes), dtype, shape);
  v.device = ctx_.device();
#if !defined(NDEBUG) || defined(LLAMBA_SANITIZED)
  // Debug and sanitizer builds poison host memory (every f32 a NaN), so a reader of an element no op wrote fails
  // the bit-exact tests instead of seeing what the arena held before.
  if (v.device == core::Device::kCpu && bytes > 0) std::memset(v.data, 0xFF, (size_t)bytes);
#endif
  return v;
}

core::TensorView Scratch::zeros(core::DType dtype, const core::Shape& shape) {
  const core::TensorView v = empty(dtype, shape);
  fill_zero(ctx_, v);
  return v;
}

}  // namespace llamba::ops
