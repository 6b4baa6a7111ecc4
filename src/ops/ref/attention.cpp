// attention reference in double: explicit scores, max-subtracted softmax, weighted sum; forward and backward
// through the templated kernels of attention_impl.h. Backward convention: gradients are accumulated into (+=);
// callers zero them; empty = not needed.
#include "ops/attention.h"

#include "ops/check_shapes.h"
#include "ops/ref/attention_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void attention_forward(const core::TensorView& out, const core::TensorView& q, const core::TensorView& k,
                       const core::TensorView& v, int64_t n_past, double scale, const core::TensorView& probs) {
  check_attention("ref::attention_forward", out, q, k, v, n_past, probs);
  const impl::AttnDims d{q.size(0), q.size(1), k.size(1), q.size(2), n_past};
  const std::vector<double> qd = gather(q), kd = gather(k), vd = gather(v);
  std::vector<double> od(out.numel()), pd(probs.data ? probs.numel() : 0);
  impl::attention_forward(od.data(), probs.data ? pd.data() : nullptr, probs.data ? probs.size(2) : 0, qd.data(),
                          kd.data(), vd.data(), d, scale);
  scatter(out, od);
  if (probs.data) scatter(probs, pd);
}

void attention_backward(const core::TensorView& dq, const core::TensorView& dk, const core::TensorView& dv,
                        const core::TensorView& dout, const core::TensorView& q, const core::TensorView& k,
                        const core::TensorView& v, int64_t n_past, double scale) {
  check_attention_backward("ref::attention_backward", dq, dk, dv, dout, q, k, v, n_past);
  const impl::AttnDims d{q.size(0), q.size(1), k.size(1), q.size(2), n_past};
  std::vector<double> gq = grad_buffer(dq), gk = grad_buffer(dk), gv = grad_buffer(dv);
  impl::attention_backward(ptr_or_null(gq), ptr_or_null(gk), ptr_or_null(gv), gather(dout).data(), gather(q).data(),
                           gather(k).data(), gather(v).data(), d, scale);
  accumulate(dq, gq);
  accumulate(dk, gk);
  accumulate(dv, gv);
}

}  // namespace llamba::ops::ref
