// Shared checks of the CUDA ops' host entry points (ops/cuda/<op>.cpp): every tensor with data is in device
// memory, dense float tensors are f32, and a kernel's launch error becomes llamba::Error naming the op.
#pragma once

#include <initializer_list>

#include "core/tensor.h"
#include "ops/cuda/backend.h"

namespace llamba::ops::cuda {

inline void require_device(const char* op, std::initializer_list<const core::TensorView*> views) {
  for (const core::TensorView* v : views)
    LLAMBA_ENSURE(!v->data || v->device == core::Device::kCuda, "[{}] a tensor {} is on {}, the kernel runs on cuda",
                  op, v->shape.str(), core::device_name(v->device));
}

inline void require_f32(const char* op, std::initializer_list<const core::TensorView*> views) {
  for (const core::TensorView* v : views)
    LLAMBA_ENSURE(!v->data || v->dtype == core::DType::kF32, "[{}] expected f32, got {} for {}", op,
                  core::dtype_name(v->dtype), v->shape.str());
}

inline const float* f32_or_null(const core::TensorView& v) { return v.data ? static_cast<const float*>(v.data) : nullptr; }

inline void launched(const char* op, cudaError_t e) { check(e, op, "kernel launch"); }

}  // namespace llamba::ops::cuda
