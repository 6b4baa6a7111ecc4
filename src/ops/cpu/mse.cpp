// mse on the CPU, forward and backward: rows across threads, per-row sums of squares in double (rows of a
// flattened T×T matrix are millions of terms long, see frobenius.h), per-row results summed in row order.
// Backward convention: gradients are accumulated into (+=); callers zero them; empty = not needed.
#include "ops/mse.h"

#include <cmath>
#include <vector>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {
namespace {

double row_sum_sq(const float* a, const float* b, int64_t D) {
  double ss = 0;
  for (int64_t i = 0; i < D; ++i) {
    const double d = (double)a[i] - (double)b[i];
    ss += d * d;
  }
  return ss;
}

}  // namespace

double mse_forward(core::ThreadPool& pool, const core::TensorView& a, const core::TensorView& b, L2Loss kind) {
  check_mse("mse_forward", {}, {}, a, b);
  const int64_t M = a.size(0), D = a.size(1);
  if (M * D == 0) return 0.0;
  std::vector<double> rows(M);
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const double ss = row_sum_sq(a.f32() + m * a.strides[0], b.f32() + m * b.strides[0], D);
      rows[m] = kind == L2Loss::kMeanRowNorm ? std::sqrt(ss) : ss;
    }
  });
  double total = 0;
  for (double r : rows) total += r;
  return total / (kind == L2Loss::kMeanRowNorm ? (double)M : (double)(M * D));
}

void mse_backward(core::ThreadPool& pool, const core::TensorView& da, const core::TensorView& db,
                  const core::TensorView& a, const core::TensorView& b, L2Loss kind, float dloss) {
  check_mse("mse_backward", da, db, a, b);
  if (!da.data && !db.data) return;
  const int64_t M = a.size(0), D = a.size(1);
  if (M * D == 0) return;
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* ar = a.f32() + m * a.strides[0];
      const float* br = b.f32() + m * b.strides[0];
      float c = (float)(2.0 * dloss / (double)(M * D));
      if (kind == L2Loss::kMeanRowNorm) {
        const double ss = row_sum_sq(ar, br, D);
        c = ss > 0 ? (float)(dloss / (std::sqrt(ss) * (double)M)) : 0.0f;
      }
      float* ga = da.data ? da.f32() + m * da.strides[0] : nullptr;
      float* gb = db.data ? db.f32() + m * db.strides[0] : nullptr;
      for (int64_t i = 0; i < D; ++i) {
        const float g = c * (ar[i] - br[i]);
        if (ga) ga[i] += g;
        if (gb) gb[i] -= g;
      }
    }
  });
}

}  // namespace llamba::ops::cpu
