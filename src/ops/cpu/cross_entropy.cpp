// cross_entropy on the CPU, forward and backward: rows across threads; per row a max-subtracted softmax with
// fp32 exp and a double sum (a 128k-term fp32 sum would lose ~sqrt(V)·eps). Per-row losses are summed in row
// order, so the result does not depend on the thread count. Backward convention: accumulate (+=).
#include "ops/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {
namespace {

// One row's softmax normalizer: its max and Σ_v exp(x_v − max). Callers use x − max (exact for nearby values)
// and never round log-sum-exp itself to fp32, which would cost eps·|max| in every probability.
struct RowNorm {
  float mx;
  double sum;
};
RowNorm row_norm(const float* x, int64_t V) {
  float mx = -INFINITY;
  for (int64_t v = 0; v < V; ++v) mx = std::max(mx, x[v]);
  double sum = 0;
  for (int64_t v = 0; v < V; ++v) sum += std::exp(x[v] - mx);
  return {mx, sum};
}

}  // namespace

double cross_entropy_forward(core::ThreadPool& pool, const core::TensorView& logits, std::span<const int32_t> targets) {
  check_cross_entropy("cross_entropy_forward", {}, logits, targets);
  const int64_t M = logits.size(0), V = logits.size(1);
  std::vector<double> row_loss(M, 0.0);
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      if (targets[m] < 0) continue;
      const float* x = logits.f32() + m * logits.strides[0];
      const RowNorm r = row_norm(x, V);
      row_loss[m] = ((double)r.mx - (double)x[targets[m]]) + std::log(r.sum);
    }
  });
  double total = 0;
  int64_t n = 0;
  for (int64_t m = 0; m < M; ++m)
    if (targets[m] >= 0) {
      total += row_loss[m];
      ++n;
    }
  return n ? total / (double)n : 0.0;
}

void cross_entropy_backward(core::ThreadPool& pool, const core::TensorView& dlogits, const core::TensorView& logits,
                            std::span<const int32_t> targets, float dloss) {
  check_cross_entropy("cross_entropy_backward", dlogits, logits, targets);
  if (!dlogits.data) return;
  const int64_t M = logits.size(0), V = logits.size(1);
  int64_t n = 0;
  for (int32_t t : targets) n += t >= 0;
  if (n == 0) return;
  const float scale = dloss / (float)n;
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      if (targets[m] < 0) continue;
      const float* x = logits.f32() + m * logits.strides[0];
      float* g = dlogits.f32() + m * dlogits.strides[0];
      const RowNorm r = row_norm(x, V);
      const float inv = (float)(1.0 / r.sum);
      for (int64_t v = 0; v < V; ++v) {
        const float p = std::exp(x[v] - r.mx) * inv;
        g[v] += scale * (v == targets[m] ? p - 1.0f : p);
      }
    }
  });
}

}  // namespace llamba::ops::cpu
