// linear reference in double, forward and backward, through the templated kernels of linear_impl.h (weights of
// any type are dequantized first). Backward convention: every gradient output is accumulated into (+=);
// callers zero them; empty = not needed.
#include "ops/linear.h"

#include "ops/check_shapes.h"
#include "ops/ref/linear_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void linear_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                    const core::TensorView& bias) {
  check_linear_shapes("ref::linear_forward", y, x, w, bias);
  check_float("ref::linear_forward", x);
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  const std::vector<double> xd = gather(x), wd = gather(w), bd = gather(bias);
  std::vector<double> yd(M * N);
  impl::linear_forward(yd.data(), xd.data(), wd.data(), bd.empty() ? nullptr : bd.data(), M, K, N);
  scatter(y, yd);
}

void linear_backward(const core::TensorView& dx, const core::TensorView& dw, const core::TensorView& dbias,
                     const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w) {
  check_linear_backward("ref::linear_backward", dx, dw, dbias, dy, x, w);
  const int64_t M = dy.size(0), N = dy.size(1), K = dx.data ? dx.size(1) : dw.data ? dw.size(1) : 0;
  const std::vector<double> dyd = gather(dy);
  // x is read only for dw and w only for dx; the unused one may be an empty view.
  std::vector<double> xd = dw.data ? gather(x) : std::vector<double>(M * K);
  std::vector<double> wd = dx.data ? gather(w) : std::vector<double>(N * K);
  std::vector<double> dxd = grad_buffer(dx), dwd = grad_buffer(dw), dbd = grad_buffer(dbias);
  impl::linear_backward(ptr_or_null(dxd), ptr_or_null(dwd), ptr_or_null(dbd), dyd.data(), xd.data(), wd.data(), M,
                        K, N);
  accumulate(dx, dxd);
  accumulate(dw, dwd);
  accumulate(dbias, dbd);
}

}  // namespace llamba::ops::ref
