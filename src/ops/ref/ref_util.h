// Helpers for the fp64 reference ops: element access for f32/f64 views and weight rows of any type as double.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "quant/quant.h"

namespace llamba::ops::ref {

// Reads/writes element `off` (in elements) of an f32 or f64 view as double.
inline double ld(const core::TensorView& v, int64_t off) {
  return v.dtype == core::DType::kF64 ? v.as<double>()[off] : (double)v.as<float>()[off];
}
inline void st(const core::TensorView& v, int64_t off, double x) {
  if (v.dtype == core::DType::kF64) v.as<double>()[off] = x;
  else v.as<float>()[off] = (float)x;
}
inline void check_float(const char* op, const core::TensorView& v) {
  LLAMBA_CHECK(v.dtype == core::DType::kF32 || v.dtype == core::DType::kF64, "[{}] ref op needs f32/f64, got {}", op,
               core::dtype_name(v.dtype));
}
// Row `r` of a contiguous 2-D tensor of any dtype (incl. block types), as double.
inline std::vector<double> row(const core::TensorView& w, int64_t r) {
  const int64_t K = w.size(-1);
  std::vector<double> out(K);
  if (w.dtype == core::DType::kF64) {
    for (int64_t k = 0; k < K; ++k) out[k] = w.as<double>()[r * K + k];
    return out;
  }
  std::vector<float> tmp(K);
  quant::dequantize_row(w.dtype, static_cast<const uint8_t*>(w.data) + core::dtype_bytes(w.dtype, K) * r, tmp.data(),
                        K);
  for (int64_t k = 0; k < K; ++k) out[k] = tmp[k];
  return out;
}

}  // namespace llamba::ops::ref
