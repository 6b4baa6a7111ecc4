// Helpers for reading model weights and hyperparameters out of a GGUF file with checked shapes and dtypes;
// errors name the file, the tensor and what was expected.
#pragma once

#include <string>

#include "core/tensor.h"
#include "io/gguf.h"

namespace llamba::models {

enum class WeightKind {
  kMatrix,  // 2-D projection or embedding: any dense float or GGUF block type
  kF32,     // norms, biases, conv weights, decay/skip parameters: always f32 (never quantized)
};

// The tensor `name` with exactly `shape` (PyTorch order) and a dtype allowed for `kind`.
core::TensorView require_weight(const io::GgufFile& f, const std::string& name, const core::Shape& shape,
                                WeightKind kind);
// Like require_weight, but returns an empty view (data == nullptr) if the tensor is absent.
core::TensorView optional_weight(const io::GgufFile& f, const std::string& name, const core::Shape& shape,
                                 WeightKind kind);
// A positive integer hyperparameter `key`, checked against [1, max].
int64_t require_dim(const io::GgufFile& f, const std::string& key, int64_t max = int64_t(1) << 24);

// The vocabulary size: the rows of the 2-D token_embd.weight every architecture has.
int64_t vocab_size(const io::GgufFile& f);

// Layer tensor name: "blk.<l>.<suffix>".
inline std::string blk(int64_t l, const char* suffix) { return "blk." + std::to_string(l) + "." + suffix; }

}  // namespace llamba::models
