// The models' small elementwise ops on the CPU (ops/elementwise.h): rows split across threads.
#include "ops/elementwise.h"

#include <algorithm>
#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {

namespace {

float* row(const core::TensorView& v, int64_t m) { return v.f32() + m * v.strides[0]; }

// Below this many elements the rows run on the calling thread (a decode step's vectors).
constexpr int64_t kSerialElements = 1 << 15;

template <class Fn>
void for_rows(core::ThreadPool& pool, int64_t M, int64_t F, Fn&& fn) {
  if (M * F <= kSerialElements) return fn(int64_t{0}, M);
  pool.parallel_for(M, fn);
}

}  // namespace

void add_inplace(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x) {
  check_rows("add_inplace", y, x);
  const int64_t M = y.size(0), F = y.size(1);
  for_rows(pool, M, F, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      float* yp = row(y, m);
      const float* xp = row(x, m);
      for (int64_t i = 0; i < F; ++i) yp[i] += xp[i];
    }
  });
}

void neg_softplus(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& a) {
  check_rows("neg_softplus", out, a);
  const int64_t M = out.size(0), F = out.size(1);
  for_rows(pool, M, F, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      float* o = row(out, m);
      const float* ap = row(a, m);
      for (int64_t i = 0; i < F; ++i) o[i] = -(std::max(ap[i], 0.0f) + std::log1p(std::exp(-std::fabs(ap[i]))));
    }
  });
}

void skip_add(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
              const core::TensorView& d) {
  check_skip_add("skip_add", y, x, d);
  const int64_t M = y.size(0), H = d.size(0), P = y.size(1) / H;
  const float* dp = d.f32();
  for_rows(pool, M, H * P, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      float* yp = row(y, m);
      const float* xp = row(x, m);
      for (int64_t h = 0; h < H; ++h)
        for (int64_t p = 0; p < P; ++p) yp[h * P + p] += dp[h] * xp[h * P + p];
    }
  });
}

}  // namespace llamba::ops::cpu
