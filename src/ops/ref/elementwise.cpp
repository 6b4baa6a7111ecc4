// The models' small elementwise ops in double (ops/elementwise.h), element by element over any strides.
#include "ops/elementwise.h"

#include <algorithm>
#include <cmath>

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

namespace {

template <class Fn>
void each(const core::TensorView& a, Fn&& fn) {  // fn(m, i, element offsets in a)
  for (int64_t m = 0; m < a.size(0); ++m)
    for (int64_t i = 0; i < a.size(1); ++i) fn(m, i);
}

int64_t at(const core::TensorView& v, int64_t m, int64_t i) { return m * v.strides[0] + i * v.strides[1]; }

}  // namespace

void add_inplace(const core::TensorView& y, const core::TensorView& x) {
  check_rows("ref::add_inplace", y, x);
  check_float("ref::add_inplace", y);
  each(y, [&](int64_t m, int64_t i) { st(y, at(y, m, i), ld(y, at(y, m, i)) + ld(x, at(x, m, i))); });
}

void neg_softplus(const core::TensorView& out, const core::TensorView& a) {
  check_rows("ref::neg_softplus", out, a);
  check_float("ref::neg_softplus", out);
  each(out, [&](int64_t m, int64_t i) {
    const double v = ld(a, at(a, m, i));
    st(out, at(out, m, i), -(std::max(v, 0.0) + std::log1p(std::exp(-std::fabs(v)))));
  });
}

void skip_add(const core::TensorView& y, const core::TensorView& x, const core::TensorView& d) {
  check_skip_add("ref::skip_add", y, x, d);
  check_float("ref::skip_add", y);
  const int64_t P = y.size(1) / d.size(0);
  each(y, [&](int64_t m, int64_t i) {
    st(y, at(y, m, i), ld(y, at(y, m, i)) + ld(d, (i / P) * d.strides[0]) * ld(x, at(x, m, i)));
  });
}

}  // namespace llamba::ops::ref
