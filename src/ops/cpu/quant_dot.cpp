// Highway kernels of dot_rows_quant: per 32-element block, decode Lanes() weights of each of four rows into f32
// registers and accumulate with one fused multiply-add per row, as DotTileImpl does with dequantized rows.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/cpu/quant_dot.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "core/check.h"
#include "ops/cpu/quant_dot.h"

HWY_BEFORE_NAMESPACE();
namespace llamba::ops::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr int64_t kBlock = 32;

// A block's f16 scale or minimum, converted by the hardware where the target has F16C (every f16 value is exact
// in f32, so this equals core::fp16_to_f32).
inline float load_f16(const uint8_t* p) {
  const hn::CappedTag<float, 1> d1;
  const hn::Rebind<hwy::float16_t, decltype(d1)> dh;
  return hn::GetLane(hn::PromoteTo(d1, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p))));
}

// One block layout: its size, its scale (and minimum), and the f32 weights j … j+Lanes−1 of a block.
struct Q8_0 {
  static constexpr int64_t kBytes = 34;
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int64_t j, hn::Vec<DF> d, hn::Vec<DF>) {
    const hn::Rebind<int8_t, DF> d8;
    const hn::Rebind<int32_t, DF> d32;
    const auto q = hn::PromoteTo(d32, hn::LoadU(d8, reinterpret_cast<const int8_t*>(blk + 2 + j)));
    return hn::Mul(hn::ConvertTo(df, q), d);
  }
  static float min(const uint8_t*) { return 0.0f; }
};

// Q4_0 and Q4_1: byte i holds element i (low nibble) and element i + 16 (high nibble).
template <class DF>
hn::Vec<hn::Rebind<int32_t, DF>> nibbles(DF, const uint8_t* qs, int64_t j) {
  const hn::Rebind<uint8_t, DF> d8;
  const hn::Rebind<int32_t, DF> d32;
  const auto q = hn::PromoteTo(d32, hn::LoadU(d8, qs + (j & 15)));
  return j < 16 ? hn::And(q, hn::Set(d32, 0x0f)) : hn::ShiftRight<4>(q);
}

struct Q4_0 {
  static constexpr int64_t kBytes = 18;
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int64_t j, hn::Vec<DF> d, hn::Vec<DF>) {
    const hn::Rebind<int32_t, DF> d32;
    return hn::Mul(hn::ConvertTo(df, hn::Sub(nibbles(df, blk + 2, j), hn::Set(d32, 8))), d);
  }
  static float min(const uint8_t*) { return 0.0f; }
};

struct Q4_1 {
  static constexpr int64_t kBytes = 20;
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int64_t j, hn::Vec<DF> d, hn::Vec<DF> m) {
    return hn::Add(hn::Mul(hn::ConvertTo(df, nibbles(df, blk + 4, j)), d), m);
  }
  static float min(const uint8_t* blk) { return load_f16(blk + 2); }
};

template <class Q>
void DotRowsQ(const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t n = (int64_t)hn::Lanes(df);
  const uint8_t* r0 = w[0];
  const uint8_t* r1 = n_rows > 1 ? w[1] : w[0];
  const uint8_t* r2 = n_rows > 2 ? w[2] : w[0];
  const uint8_t* r3 = n_rows > 3 ? w[3] : w[0];
  auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  for (int64_t b = 0; b < k / kBlock; ++b) {
    const int64_t off = b * Q::kBytes;
    const uint8_t *b0 = r0 + off, *b1 = r1 + off, *b2 = r2 + off, *b3 = r3 + off;
    const auto d0 = hn::Set(df, load_f16(b0)), m0 = hn::Set(df, Q::min(b0));
    const auto d1 = hn::Set(df, load_f16(b1)), m1 = hn::Set(df, Q::min(b1));
    const auto d2 = hn::Set(df, load_f16(b2)), m2 = hn::Set(df, Q::min(b2));
    const auto d3 = hn::Set(df, load_f16(b3)), m3 = hn::Set(df, Q::min(b3));
    for (int64_t j = 0; j < kBlock; j += n) {
      const auto xv = hn::LoadU(df, x + b * kBlock + j);
      a0 = hn::MulAdd(xv, Q::decode(df, b0, j, d0, m0), a0);
      a1 = hn::MulAdd(xv, Q::decode(df, b1, j, d1, m1), a1);
      a2 = hn::MulAdd(xv, Q::decode(df, b2, j, d2, m2), a2);
      a3 = hn::MulAdd(xv, Q::decode(df, b3, j, d3, m3), a3);
    }
  }
  const float s[4] = {hn::GetLane(hn::SumOfLanes(df, a0)), hn::GetLane(hn::SumOfLanes(df, a1)),
                      hn::GetLane(hn::SumOfLanes(df, a2)), hn::GetLane(hn::SumOfLanes(df, a3))};
  for (int r = 0; r < n_rows; ++r) out[r] = s[r];
}

// Lanes() must divide 16 so that a vector never straddles the two nibble halves of a block.
int64_t VectorLanes() { return (int64_t)hn::Lanes(hn::ScalableTag<float>()); }
void DotRowsQ8_0(const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) {
  DotRowsQ<Q8_0>(x, w, n_rows, k, out);
}
void DotRowsQ4_0(const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) {
  DotRowsQ<Q4_0>(x, w, n_rows, k, out);
}
void DotRowsQ4_1(const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) {
  DotRowsQ<Q4_1>(x, w, n_rows, k, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace llamba::ops::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llamba::ops::cpu {
HWY_EXPORT(VectorLanes);
HWY_EXPORT(DotRowsQ8_0);
HWY_EXPORT(DotRowsQ4_0);
HWY_EXPORT(DotRowsQ4_1);

bool has_quant_dot(core::DType t) {
  const bool type_ok = t == core::DType::kQ8_0 || t == core::DType::kQ4_0 || t == core::DType::kQ4_1;
  static const bool lanes_ok = 16 % HWY_DYNAMIC_DISPATCH(VectorLanes)() == 0;
  return type_ok && lanes_ok;
}

void dot_rows_quant(core::DType t, const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) {
  switch (t) {
    case core::DType::kQ8_0: return HWY_DYNAMIC_DISPATCH(DotRowsQ8_0)(x, w, n_rows, k, out);
    case core::DType::kQ4_0: return HWY_DYNAMIC_DISPATCH(DotRowsQ4_0)(x, w, n_rows, k, out);
    case core::DType::kQ4_1: return HWY_DYNAMIC_DISPATCH(DotRowsQ4_1)(x, w, n_rows, k, out);
    default: LLAMBA_CHECK(false, "dot_rows_quant: no kernel for {}", core::dtype_name(t));
  }
}
}  // namespace llamba::ops::cpu
#endif
