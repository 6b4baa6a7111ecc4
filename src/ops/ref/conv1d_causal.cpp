// conv1d_causal reference in double over the extended sequence [state; x], forward and backward, through the
// templated kernels of conv1d_causal_impl.h. Backward convention: every gradient output is accumulated into
// (+=); callers zero them; empty = not needed.
#include "ops/conv1d_causal.h"

#include "ops/check_shapes.h"
#include "ops/ref/conv1d_causal_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void conv1d_causal_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                           const core::TensorView& bias, const core::TensorView& state, ConvActivation act) {
  const int64_t B = check_conv1d_causal_forward("ref::conv1d_causal_forward", y, x, w, bias, state);
  LLAMBA_ENSURE(y.data != x.data, "[ref::conv1d_causal_forward] y must not alias x");
  if (state.rank() == 3) {  // each sequence alone
    const int64_t T = x.size(0) / B;
    for (int64_t b = 0; b < B; ++b)
      conv1d_causal_forward(y.slice(0, b * T, (b + 1) * T), x.slice(0, b * T, (b + 1) * T), w, bias, state.select(0, b),
                            act);
    return;
  }
  const int64_t T = x.size(0), C = x.size(1), K = w.size(1);
  const std::vector<double> xd = gather(x), wd = gather(w), bd = gather(bias);
  std::vector<double> sd = gather(state), yd(T * C);
  impl::conv1d_causal_forward(yd.data(), sd.data(), xd.data(), wd.data(), bd.empty() ? nullptr : bd.data(), T, C, K,
                              act == ConvActivation::kSilu);
  scatter(y, yd);
  scatter(state, sd);
}

void conv1d_causal_backward(const core::TensorView& dx, const core::TensorView& dw, const core::TensorView& dbias,
                            const core::TensorView& dstate_in, const core::TensorView& dy, const core::TensorView& x,
                            const core::TensorView& w, const core::TensorView& bias, const core::TensorView& state_in,
                            ConvActivation act, const core::TensorView& dstate_out) {
  check_conv1d_causal_backward("ref::conv1d_causal_backward", dx, dw, dbias, dstate_in, dy, x, w, bias, state_in,
                               dstate_out);
  const int64_t T = x.size(0), C = x.size(1), K = w.size(1);
  const std::vector<double> xd = gather(x), wd = gather(w), bd = gather(bias), sd = gather(state_in),
                            dyd = gather(dy), dsod = gather(dstate_out);
  std::vector<double> dxd = grad_buffer(dx), dwd = grad_buffer(dw), dbd = grad_buffer(dbias),
                      dsid = grad_buffer(dstate_in);
  auto cptr = [](const std::vector<double>& v) { return v.empty() ? nullptr : v.data(); };
  impl::conv1d_causal_backward(ptr_or_null(dxd), ptr_or_null(dwd), ptr_or_null(dbd), ptr_or_null(dsid), dyd.data(),
                               cptr(dsod), xd.data(), wd.data(), cptr(bd), cptr(sd), T, C, K,
                               act == ConvActivation::kSilu);
  accumulate(dx, dxd);
  accumulate(dw, dwd);
  accumulate(dbias, dbd);
  accumulate(dstate_in, dsid);
}

}  // namespace llamba::ops::ref
