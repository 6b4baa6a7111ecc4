// embedding: out[t] = table[ids[t]] for a table in any dense or block type (dequantized rows).
#pragma once

#include <span>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// out (T, D) f32 (or f64 in ref); table (V, D); ids must be in [0, V) (checked: throws llamba::Error).
void embedding_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& table,
                       std::span<const int32_t> ids);

namespace ref {
void embedding_forward(const core::TensorView& out, const core::TensorView& table, std::span<const int32_t> ids);
}

}  // namespace llamba::ops
