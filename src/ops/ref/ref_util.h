// Helpers for the fp64 reference ops: element access for f32/f64 views, weight rows of any type as double, and
// gather / scatter / accumulate between strided views and the dense double arrays the templated kernels use.
#pragma once

#include <algorithm>
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
  LLAMBA_ENSURE(v.dtype == core::DType::kF32 || v.dtype == core::DType::kF64, "[{}] ref op needs f32/f64, got {}", op,
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

// Calls fn(i, off) for every element of `v` in row-major order: i is the dense index, off the element offset.
template <class Fn>
void for_each_offset(const core::TensorView& v, Fn&& fn) {
  const int r = v.rank();
  const int64_t n = v.numel();
  int64_t idx[core::kMaxDims] = {};
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (int d = 0; d < r; ++d) off += idx[d] * v.strides[d];
    fn(i, off);
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[d] < v.shape[d]) break;
      idx[d] = 0;
    }
  }
}

// The elements of `v` as a dense row-major double array (empty for an empty view). f32/f64 views may have any
// strides; other dtypes (f16, bf16, block types) must be contiguous and are dequantized row by row.
inline std::vector<double> gather(const core::TensorView& v) {
  if (!v.data) return {};
  std::vector<double> out(v.numel());
  if (v.dtype == core::DType::kF32 || v.dtype == core::DType::kF64) {
    for_each_offset(v, [&](int64_t i, int64_t off) { out[i] = ld(v, off); });
    return out;
  }
  LLAMBA_ENSURE(v.is_contiguous() && v.rank() >= 1, "[ref] gather of a strided {} view", core::dtype_name(v.dtype));
  const int64_t K = v.size(-1), rows = v.numel() / std::max<int64_t>(K, 1);
  const core::TensorView flat = v.reshape({rows, K});
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> x = row(flat, r);
    std::copy(x.begin(), x.end(), out.begin() + r * K);
  }
  return out;
}

// v = a (f32 or f64 view, any strides).
inline void scatter(const core::TensorView& v, const std::vector<double>& a) {
  check_float("ref::scatter", v);
  for_each_offset(v, [&](int64_t i, int64_t off) { st(v, off, a[i]); });
}

// v += a: the backward accumulation convention. Does nothing for an empty view.
inline void accumulate(const core::TensorView& v, const std::vector<double>& a) {
  if (!v.data) return;
  check_float("ref::accumulate", v);
  for_each_offset(v, [&](int64_t i, int64_t off) { st(v, off, ld(v, off) + a[i]); });
}

// A zeroed gradient buffer the size of `v`, or an empty vector when `v` is empty (not needed).
inline std::vector<double> grad_buffer(const core::TensorView& v) {
  return v.data ? std::vector<double>(v.numel(), 0.0) : std::vector<double>{};
}
// Pointer to a gradient buffer, or null when it is not needed.
inline double* ptr_or_null(std::vector<double>& g) { return g.empty() ? nullptr : g.data(); }

}  // namespace llamba::ops::ref
