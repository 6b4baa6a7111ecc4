// kl_div on the CPU, forward and backward: rows across threads; per row two max-subtracted softmaxes (student
// at s/τ, teacher at t/τ or t) with fp32 exp and double sums; per-row losses summed in row order (independent
// of the thread count). Backward convention: the gradient is accumulated into (+=).
#include "ops/kl_div.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {
namespace {

// One row scaled by `inv_tau`: its max and Σ_v exp(x_v·inv_tau − max); log-softmax_v = (x_v·inv_tau − max) −
// log(sum), never rounding log-sum-exp itself to fp32.
struct RowNorm {
  float mx;
  double sum;
};
RowNorm row_norm(const float* x, int64_t V, float inv_tau) {
  float mx = -INFINITY;
  for (int64_t v = 0; v < V; ++v) mx = std::max(mx, x[v] * inv_tau);
  double sum = 0;
  for (int64_t v = 0; v < V; ++v) sum += std::exp(x[v] * inv_tau - mx);
  return {mx, sum};
}

}  // namespace

double kl_div_forward(core::ThreadPool& pool, const core::TensorView& student, const core::TensorView& teacher,
                      float tau, KdLoss kind) {
  check_kl_div("kl_div_forward", {}, student, teacher, tau);
  const int64_t M = student.size(0), V = student.size(1);
  const bool soft_ce = kind == KdLoss::kSoftCe;
  const float inv_s = 1.0f / tau, inv_t = soft_ce ? 1.0f : 1.0f / tau;
  std::vector<double> row_loss(M, 0.0);
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* s = student.f32() + m * student.strides[0];
      const float* t = teacher.f32() + m * teacher.strides[0];
      const RowNorm rs = row_norm(s, V, inv_s), rt = row_norm(t, V, inv_t);
      // With a = t·inv_t − mx_t, b = s·inv_s − mx_s: log p = a − log Σ_t, log q = b − log Σ_s, Σ p = 1, so
      // KL = Σ p (a − b) + log Σ_s − log Σ_t and soft CE = −Σ p b + log Σ_s.
      const float inv_sum_t = (float)(1.0 / rt.sum);
      double acc = 0;
      for (int64_t v = 0; v < V; ++v) {
        const float a = t[v] * inv_t - rt.mx, b = s[v] * inv_s - rs.mx;
        const float p = std::exp(a) * inv_sum_t;
        acc += (double)p * (soft_ce ? -(double)b : (double)a - (double)b);
      }
      row_loss[m] = soft_ce ? acc + std::log(rs.sum)
                            : (double)tau * tau * (acc + std::log(rs.sum) - std::log(rt.sum));
    }
  });
  double total = 0;
  for (double l : row_loss) total += l;
  return M ? total / (double)M : 0.0;
}

void kl_div_backward(core::ThreadPool& pool, const core::TensorView& dstudent, const core::TensorView& student,
                     const core::TensorView& teacher, float tau, KdLoss kind, float dloss) {
  check_kl_div("kl_div_backward", dstudent, student, teacher, tau);
  if (!dstudent.data) return;
  const int64_t M = student.size(0), V = student.size(1);
  if (M == 0) return;
  const bool soft_ce = kind == KdLoss::kSoftCe;
  const float inv_s = 1.0f / tau, inv_t = soft_ce ? 1.0f : 1.0f / tau;
  const float c = (soft_ce ? inv_s : tau) * dloss / (float)M;
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* s = student.f32() + m * student.strides[0];
      const float* t = teacher.f32() + m * teacher.strides[0];
      float* g = dstudent.f32() + m * dstudent.strides[0];
      const RowNorm rs = row_norm(s, V, inv_s), rt = row_norm(t, V, inv_t);
      const float iss = (float)(1.0 / rs.sum), ist = (float)(1.0 / rt.sum);
      for (int64_t v = 0; v < V; ++v) {
        const float q = std::exp(s[v] * inv_s - rs.mx) * iss, p = std::exp(t[v] * inv_t - rt.mx) * ist;
        g[v] += c * (q - p);
      }
    }
  });
}

}  // namespace llamba::ops::cpu
