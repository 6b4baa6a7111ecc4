// kl_div reference in double, forward and backward, through the templated kernels of kl_div_impl.h.
// Backward convention: the gradient is accumulated into (+=); callers zero it.
#include "ops/kl_div.h"

#include "ops/check_shapes.h"
#include "ops/ref/kl_div_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

double kl_div_forward(const core::TensorView& student, const core::TensorView& teacher, double tau, KdLoss kind) {
  check_kl_div("ref::kl_div_forward", {}, student, teacher, tau);
  return impl::kl_div_forward(gather(student).data(), gather(teacher).data(), student.size(0), student.size(1), tau,
                              kind == KdLoss::kSoftCe);
}

void kl_div_backward(const core::TensorView& dstudent, const core::TensorView& student, const core::TensorView& teacher,
                     double tau, KdLoss kind, double dloss) {
  check_kl_div("ref::kl_div_backward", dstudent, student, teacher, tau);
  std::vector<double> g = grad_buffer(dstudent);
  if (g.empty()) return;
  impl::kl_div_backward(g.data(), gather(student).data(), gather(teacher).data(), student.size(0), student.size(1),
                        tau, kind == KdLoss::kSoftCe, dloss);
  accumulate(dstudent, g);
}

}  // namespace llamba::ops::ref
