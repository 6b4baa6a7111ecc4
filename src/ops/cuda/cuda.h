// The CUDA backend's public face (host C++, no CUDA headers): is a GPU there, a backend for a CUDA ops::Context,
// and tensors in device memory with copies to and from the host. The kernels are ops::cuda::X, declared in each
// op's header next to ops::cpu::X and reached through ops::X(ctx, ...) on a CUDA context.
// Copies here are blocking: each waits for the work already queued on the backend's stream, then for itself.
#pragma once

#include <memory>
#include <string>

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops::cuda {

// True when a CUDA device can be used (driver and GPU present); otherwise false and `why` says what is missing.
// Never throws.
bool available(std::string* why = nullptr);

// A backend on GPU `device`: its own stream, cuBLAS handle and workspaces. Throws llamba::Error without a GPU.
// Use: ops::Context ctx(ops::cuda::make_backend());
std::shared_ptr<Backend> make_backend(int device = 0);

// An uninitialized contiguous tensor in `be`'s device memory (freed with the last view's owner).
core::Tensor empty(Backend& be, core::DType dtype, const core::Shape& shape);
// The same, every byte `byte` (0 for zeros; 0xFF makes every f32 a NaN, for tests that poison outputs).
core::Tensor filled(Backend& be, core::DType dtype, const core::Shape& shape, uint8_t byte);
// A contiguous device copy of host view `host` (strided dense views are packed first).
core::Tensor to_device(Backend& be, const core::TensorView& host);
// A contiguous host copy of device view `dev` (any dense strided view too).
core::Tensor to_host(Backend& be, const core::TensorView& dev);
// Waits until everything queued on `be`'s stream has run; throws llamba::Error on a CUDA error.
void synchronize(Backend& be);
// Queued on `be`'s stream (they return at once): `bytes` of device memory at `dst` set to zero, or copied from
// device memory at `src`.
void zero_async(Backend& be, void* dst, size_t bytes);
void copy_async(Backend& be, void* dst, const void* src, size_t bytes);

// The same through a CUDA context.
inline core::Tensor to_device(Context& ctx, const core::TensorView& host) { return to_device(ctx.cuda(), host); }
inline core::Tensor to_host(Context& ctx, const core::TensorView& dev) { return to_host(ctx.cuda(), dev); }
inline void synchronize(Context& ctx) { synchronize(ctx.cuda()); }

}  // namespace llamba::ops::cuda
