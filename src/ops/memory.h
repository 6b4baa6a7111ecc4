// Memory on a context's device: tensors allocated there, copies to and from the host, and Scratch, the
// per-context arena a model's forward takes its temporaries from. A CPU context uses host memory; a CUDA
// context (-DLLAMBA_CUDA=ON) device memory through ops/cuda. Copies wait for the work already queued.
#pragma once

#include <cstddef>
#include <vector>

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// A zero-filled contiguous tensor on ctx's device.
core::Tensor zeros(Context& ctx, core::DType dtype, const core::Shape& shape);
// A contiguous copy of host view `host` on ctx's device (on a CPU context a host copy).
core::Tensor to_device(Context& ctx, const core::TensorView& host);
// A contiguous host copy of `v`, a dense view on ctx's device or the host.
core::Tensor to_host(Context& ctx, const core::TensorView& v);
// Sets every byte of the contiguous view `v` (on ctx's device) to zero, queued after the work before it.
void fill_zero(Context& ctx, const core::TensorView& v);
// Copies the contiguous view `src` into the contiguous view `dst` of the same size, both on ctx's device.
void copy(Context& ctx, const core::TensorView& dst, const core::TensorView& src);

// The arena behind Scratch: blocks of the context's memory, handed out by bumping an offset and taken back in
// LIFO order. Blocks stay allocated, so a forward that needs what an earlier one needed allocates nothing.
class Arena {
 public:
  struct Mark {
    size_t block = 0, offset = 0;
  };
  Mark mark() const { return {block_, offset_}; }
  void rewind(Mark m) { block_ = m.block, offset_ = m.offset; }
  // `bytes` (rounded up to 256) of uninitialized memory on ctx's device, valid until rewound past.
  void* take(Context& ctx, size_t bytes);
  size_t reserved() const;  // bytes held in all blocks

 private:
  std::vector<core::Tensor> blocks_;
  size_t block_ = 0, offset_ = 0;
};

// The temporaries of one scope: views into ctx's arena, given back when the Scratch is destroyed (scopes nest).
// A view must not outlive its Scratch; what a caller keeps (training activations, states) is a Tensor instead.
class Scratch {
 public:
  explicit Scratch(Context& ctx) : ctx_(ctx), mark_(ctx.arena().mark()) {}
  ~Scratch() { ctx_.arena().rewind(mark_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // Uninitialized, contiguous (NaN-poisoned in debug and sanitizer builds on the CPU).
  core::TensorView empty(core::DType dtype, const core::Shape& shape);
  core::TensorView zeros(core::DType dtype, const core::Shape& shape);  // zero-filled, contiguous

 private:
  Context& ctx_;
  Arena::Mark mark_;
};

}  // namespace llamba::ops
