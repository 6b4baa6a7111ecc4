// gated_recurrence backward, fp64 ref against a numerical gradient (gateloop.md §7.2 test 8).
#include <gtest/gtest.h>

#include "ops/gated_recurrence_grad_testing.h"

namespace llamba::test::gr {
namespace {

TEST(GatedRecurrenceBackward, RefVsNumericSmoke) {
  for (int gk = 0; gk < 4; ++gk) {
    Config c;
    c.B = 1, c.T = 9, c.H = 2, c.G = 1, c.N = 3, c.P = 2;
    c.vector_gate = gk & 1, c.complex = gk & 2, c.seed = 7;
    const Data d = make_data(c);
    const Cotangent ct = make_cotangent(c, true, 3);
    const Grads a = run_backward(d, ct, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent, 64, 0.7});
    const Grads n = numeric_grads(d, ct, 0.7);
    const GradErr e = grad_error(a, n);
    std::printf("%s: %s\n", describe(c).c_str(), e.str().c_str());
    const Grads cr = run_backward(d, ct, {Backend::kCpu, DType::kF64, RecurrenceMode::kRecurrent, 64, 0.7});
    std::printf("  cpu rec f64: %s\n", grad_error(cr, a).str().c_str());
    const Grads cf = run_backward(d, ct, {Backend::kCpu, DType::kF32, RecurrenceMode::kRecurrent, 64, 0.7});
    std::printf("  cpu rec f32: %s\n", grad_error(cf, a).str().c_str());
    for (int64_t C : {1, 2, 4, 9, 16}) {
      const Grads cc = run_backward(d, ct, {Backend::kCpu, DType::kF64, RecurrenceMode::kChunked, C, 0.7});
      std::printf("  cpu chunk %ld f64: %s\n", (long)C, grad_error(cc, a).str().c_str());
      const Grads cc32 = run_backward(d, ct, {Backend::kCpu, DType::kF32, RecurrenceMode::kChunked, C, 0.7});
      std::printf("  cpu chunk %ld f32: %s\n", (long)C, grad_error(cc32, a).str().c_str());
    }
  }
}

}  // namespace
}  // namespace llamba::test::gr
