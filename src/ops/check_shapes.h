// Shape checks shared by an op's ref and cpu entry points, so both validate identically (once, at entry).
#pragma once

#include "core/tensor.h"

namespace llamba::ops {

// x (M, K), w (N, K), y (M, N), bias (N) optional; inner dimensions contiguous.
inline void check_linear_shapes(const char* op, const core::TensorView& y, const core::TensorView& x,
                                const core::TensorView& w, const core::TensorView& bias) {
  LLAMBA_CHECK(x.rank() == 2 && w.rank() == 2 && y.rank() == 2, "[{}] expected x (M, K), w (N, K), y (M, N); got {} {} {}",
               op, x.shape.str(), w.shape.str(), y.shape.str());
  LLAMBA_CHECK(x.size(1) == w.size(1) && y.size(0) == x.size(0) && y.size(1) == w.size(0),
               "[{}] shape mismatch: x {} w {} y {}", op, x.shape.str(), w.shape.str(), y.shape.str());
  LLAMBA_CHECK(x.strides[1] == 1 && y.strides[1] == 1 && w.is_contiguous(), "[{}] inner dims must be contiguous", op);
  LLAMBA_CHECK(!bias.data || (bias.rank() == 1 && bias.size(0) == w.size(0)), "[{}] bias {} for {} outputs", op,
               bias.shape.str(), w.size(0));
}

// Row-wise ops: a (M, F) with contiguous rows; every other view the same shape.
inline void check_rows(const char* op, const core::TensorView& a, const core::TensorView& b) {
  LLAMBA_CHECK(a.rank() == 2 && b.rank() == 2 && a.shape == b.shape && a.strides[1] == 1 && b.strides[1] == 1,
               "[{}] expected matching (M, F) views with contiguous rows, got {} and {}", op, a.shape.str(),
               b.shape.str());
}

}  // namespace llamba::ops
