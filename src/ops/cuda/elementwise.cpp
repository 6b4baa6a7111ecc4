// The models' small elementwise ops on the GPU, host entry: the CPU op's checks, then the kernels
// (ops/cuda/elementwise.cu).
#include "ops/elementwise.h"

#include "ops/check_shapes.h"
#include "ops/cuda/entry.h"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda {

namespace {

kernels::Elementwise rows(const core::TensorView& y, const core::TensorView& x) {
  return {static_cast<float*>(y.data), y.strides[0], static_cast<const float*>(x.data), x.strides[0], nullptr, 1,
          y.size(0), y.size(1)};
}

}  // namespace

void add_inplace(Backend& be, const core::TensorView& y, const core::TensorView& x) {
  constexpr const char* op = "add_inplace";
  check_rows(op, y, x);
  require_device(op, {&y, &x});
  require_f32(op, {&y, &x});
  be.make_current();
  launched(op, kernels::add_inplace(be.stream(), rows(y, x)));
}

void neg_softplus(Backend& be, const core::TensorView& out, const core::TensorView& a) {
  constexpr const char* op = "neg_softplus";
  check_rows(op, out, a);
  require_device(op, {&out, &a});
  require_f32(op, {&out, &a});
  be.make_current();
  launched(op, kernels::neg_softplus(be.stream(), rows(out, a)));
}

void skip_add(Backend& be, const core::TensorView& y, const core::TensorView& x, const core::TensorView& d) {
  constexpr const char* op = "skip_add";
  check_skip_add(op, y, x, d);
  require_device(op, {&y, &x, &d});
  require_f32(op, {&y, &x, &d});
  be.make_current();
  kernels::Elementwise e = rows(y, x);
  e.d = static_cast<const float*>(d.data);
  e.P = y.size(1) / d.size(0);
  launched(op, kernels::skip_add(be.stream(), e));
}

}  // namespace llamba::ops::cuda
