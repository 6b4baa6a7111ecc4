// Highway implementations of dot_rows / dot / axpy, compiled for every x86 target and dispatched at runtime.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/cpu/dot.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "ops/cpu/dot.h"

HWY_BEFORE_NAMESPACE();
namespace llamba::ops::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void DotRowsImpl(const float* x, const float* const* w, int n_rows, int64_t k, float* out) {
  const hn::ScalableTag<float> d;
  const int64_t n = (int64_t)hn::Lanes(d);
  auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  const float* w0 = w[0];
  const float* w1 = n_rows > 1 ? w[1] : w[0];
  const float* w2 = n_rows > 2 ? w[2] : w[0];
  const float* w3 = n_rows > 3 ? w[3] : w[0];
  int64_t i = 0;
  for (; i + n <= k; i += n) {
    const auto xv = hn::LoadU(d, x + i);
    a0 = hn::MulAdd(xv, hn::LoadU(d, w0 + i), a0);
    a1 = hn::MulAdd(xv, hn::LoadU(d, w1 + i), a1);
    a2 = hn::MulAdd(xv, hn::LoadU(d, w2 + i), a2);
    a3 = hn::MulAdd(xv, hn::LoadU(d, w3 + i), a3);
  }
  float s[4] = {hn::GetLane(hn::SumOfLanes(d, a0)), hn::GetLane(hn::SumOfLanes(d, a1)),
                hn::GetLane(hn::SumOfLanes(d, a2)), hn::GetLane(hn::SumOfLanes(d, a3))};
  const float* ws[4] = {w0, w1, w2, w3};
  for (; i < k; ++i)
    for (int r = 0; r < 4; ++r) s[r] += x[i] * ws[r][i];
  for (int r = 0; r < n_rows; ++r) out[r] = s[r];
}

float DotImpl(const float* a, const float* b, int64_t k) {
  const hn::ScalableTag<float> d;
  const int64_t n = (int64_t)hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * n <= k; i += 2 * n) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + n), hn::LoadU(d, b + i + n), s1);
  }
  for (; i + n <= k; i += n) s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  float s = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
  for (; i < k; ++i) s += a[i] * b[i];
  return s;
}

void AxpyImpl(float alpha, const float* x, float* y, int64_t k) {
  const hn::ScalableTag<float> d;
  const int64_t n = (int64_t)hn::Lanes(d);
  const auto av = hn::Set(d, alpha);
  int64_t i = 0;
  for (; i + n <= k; i += n) hn::StoreU(hn::MulAdd(av, hn::LoadU(d, x + i), hn::LoadU(d, y + i)), d, y + i);
  for (; i < k; ++i) y[i] += alpha * x[i];
}

}  // namespace HWY_NAMESPACE
}  // namespace llamba::ops::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llamba::ops::cpu {
HWY_EXPORT(DotRowsImpl);
HWY_EXPORT(DotImpl);
HWY_EXPORT(AxpyImpl);

void dot_rows(const float* x, const float* const* w, int n_rows, int64_t k, float* out) {
  HWY_DYNAMIC_DISPATCH(DotRowsImpl)(x, w, n_rows, k, out);
}
float dot(const float* a, const float* b, int64_t k) { return HWY_DYNAMIC_DISPATCH(DotImpl)(a, b, k); }
void axpy(float alpha, const float* x, float* y, int64_t k) { HWY_DYNAMIC_DISPATCH(AxpyImpl)(alpha, x, y, k); }
}  // namespace llamba::ops::cpu
#endif
