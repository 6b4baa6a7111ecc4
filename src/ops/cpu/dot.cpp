// Highway implementations of dot_tile / dot / axpy, compiled for every x86 target and dispatched at runtime.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/cpu/dot.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>

#include "ops/cpu/dot.h"

HWY_BEFORE_NAMESPACE();
namespace llamba::ops::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// A tile (at most kX × kW) of dot products between rows of x and rows of w. Each output has its own vector
// accumulator, fed in k order and then summed across lanes, so an output does not depend on the tile it sits in
// (nor on M, nor on the thread count); sharing every load across the tile's rows cuts the loads per multiply-add
// (4×4: 0.5 instead of 1.25; prefill and training are load-bound otherwise).
template <int kX, int kW>  // kX rows of x held in registers: 1 for decode, 4 otherwise
void DotTileT(const float* const* x, int n_x, const float* const* w, int n_w, int64_t k, float* out,
              int64_t ld_out) {
  const hn::ScalableTag<float> d;
  const int64_t n = (int64_t)hn::Lanes(d);
  const float* xs[kX];
  const float* ws[kW];
  for (int a = 0; a < kX; ++a) xs[a] = a < n_x ? x[a] : x[0];
  for (int r = 0; r < kW; ++r) ws[r] = r < n_w ? w[r] : w[0];
  hn::Vec<decltype(d)> acc[kX][kW];
  for (int a = 0; a < kX; ++a)
    for (int r = 0; r < kW; ++r) acc[a][r] = hn::Zero(d);
  int64_t i = 0;
  for (; i + n <= k; i += n) {
    hn::Vec<decltype(d)> wv[kW];
    for (int r = 0; r < kW; ++r) wv[r] = hn::LoadU(d, ws[r] + i);
    for (int a = 0; a < kX; ++a) {
      const auto xv = hn::LoadU(d, xs[a] + i);
      for (int r = 0; r < kW; ++r) acc[a][r] = hn::MulAdd(xv, wv[r], acc[a][r]);
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
    DotTileT<1, 4>(x, n_x, w, n_w, k, out, ld_out);
    return;
  }
#if HWY_TARGET <= HWY_AVX3
  DotTileT<4, 4>(x, n_x, w, n_w, k, out, ld_out);  // 16 accumulators + 5 operands fit 32 registers
#else
  // 16 vector registers (AVX2 and below): two 4×2 halves (8 accumulators + 3 operands) instead of spilling a
  // 4×4 tile's 21 live vectors; same per-output arithmetic, so the same bits.
  DotTileT<4, 2>(x, n_x, w, std::min(n_w, 2), k, out, ld_out);
  if (n_w > 2) DotTileT<4, 2>(x, n_x, w + 2, n_w - 2, k, out + 2, ld_out);
#endif
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
