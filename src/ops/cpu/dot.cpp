// Highway implementations of dot_tile / dot / axpy, compiled for every x86 target and dispatched at runtime.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/cpu/dot.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "ops/cpu/dot.h"

HWY_BEFORE_NAMESPACE();
namespace llamba::ops::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The 4×4 (at most) tile of dot products between rows of x and rows of w. Each output has its own vector
// accumulator, fed in k order and then summed across lanes, so an output does not depend on the tile it sits in
// (nor on M, nor on the thread count); sharing every load across four rows cuts the loads per multiply-add from
// 1.25 to 0.5 (prefill and training are load-bound otherwise).
template <int kX>  // rows of x held in registers: 1 for decode, 4 otherwise
void DotTileT(const float* const* x, int n_x, const float* const* w, int n_w, int64_t k, float* out,
              int64_t ld_out) {
  const hn::ScalableTag<float> d;
  const int64_t n = (int64_t)hn::Lanes(d);
  const float* xs[kX];
  const float* ws[4];
  for (int a = 0; a < kX; ++a) xs[a] = a < n_x ? x[a] : x[0];
  for (int r = 0; r < 4; ++r) ws[r] = r < n_w ? w[r] : w[0];
  hn::Vec<decltype(d)> acc[kX][4];
  for (int a = 0; a < kX; ++a)
    for (int r = 0; r < 4; ++r) acc[a][r] = hn::Zero(d);
  int64_t i = 0;
  for (; i + n <= k; i += n) {
    const auto w0 = hn::LoadU(d, ws[0] + i), w1 = hn::LoadU(d, ws[1] + i);
    const auto w2 = hn::LoadU(d, ws[2] + i), w3 = hn::LoadU(d, ws[3] + i);
    for (int a = 0; a < kX; ++a) {
      const auto xv = hn::LoadU(d, xs[a] + i);
      acc[a][0] = hn::MulAdd(xv, w0, acc[a][0]);
      acc[a][1] = hn::MulAdd(xv, w1, acc[a][1]);
      acc[a][2] = hn::MulAdd(xv, w2, acc[a][2]);
      acc[a][3] = hn::MulAdd(xv, w3, acc[a][3]);
    }
  }
  for (int a = 0; a < n_x; ++a) {
    for (int r = 0; r < n_w; ++r) {
      float s = hn::GetLane(hn::SumOfLanes(d, acc[a][r]));
      for (int64_t j = i; j < k; ++j) s += xs[a][j] * ws[r][j];
      out[a * ld_out + r] = s;
    }
  }
}

void DotTileImpl(const float* const* x, int n_x, const float* const* w, int n_w, int64_t k, float* out,
                 int64_t ld_out) {
  if (n_x == 1) {
    DotTileT<1>(x, n_x, w, n_w, k, out, ld_out);
  } else {
    DotTileT<4>(x, n_x, w, n_w, k, out, ld_out);
  }
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
HWY_EXPORT(DotTileImpl);
HWY_EXPORT(DotImpl);
HWY_EXPORT(AxpyImpl);

void dot_tile(const float* const* x, int n_x, const float* const* w, int n_w, int64_t k, float* out,
              int64_t ld_out) {
  HWY_DYNAMIC_DISPATCH(DotTileImpl)(x, n_x, w, n_w, k, out, ld_out);
}
float dot(const float* a, const float* b, int64_t k) { return HWY_DYNAMIC_DISPATCH(DotImpl)(a, b, k); }
void axpy(float alpha, const float* x, float* y, int64_t k) { HWY_DYNAMIC_DISPATCH(AxpyImpl)(alpha, x, y, k); }
}  // namespace llamba::ops::cpu
#endif
