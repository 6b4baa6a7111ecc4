// Highway kernels of dot_rows_quant: per sub-block (the elements that share one scale, and minimum), decode
// Lanes() weights of each of 4 or 8 rows into f32 registers and accumulate with one fused multiply-add per row, as
// DotTileImpl does with dequantized rows. Each layout's scalar scales and vector decode repeat quant.cpp's float
// operations exactly.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/cpu/quant_dot.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "core/check.h"
#include "ops/cpu/quant_dot.h"
#include "quant/quant.h"

HWY_BEFORE_NAMESPACE();
namespace llamba::ops::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// A block's f16 scale or minimum, converted by the hardware where the target has F16C (every f16 value is exact
// in f32, so this equals core::fp16_to_f32).
inline float load_f16(const uint8_t* p) {
  const hn::CappedTag<float, 1> d1;
  const hn::Rebind<hwy::float16_t, decltype(d1)> dh;
  return hn::GetLane(hn::PromoteTo(d1, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(p))));
}

template <class DF>
using VecI32 = hn::Vec<hn::Rebind<int32_t, DF>>;

// Lanes() unsigned bytes from p, widened to i32.
template <class DF>
VecI32<DF> load_u8(DF, const uint8_t* p) {
  return hn::PromoteTo(hn::Rebind<int32_t, DF>(), hn::LoadU(hn::Rebind<uint8_t, DF>(), p));
}

// The low (high = false) or high nibble of each byte at p.
template <class DF>
VecI32<DF> load_nibbles(DF df, const uint8_t* p, bool high) {
  const auto q = load_u8(df, p);
  return high ? hn::ShiftRight<4>(q) : hn::And(q, hn::Set(hn::Rebind<int32_t, DF>(), 0x0f));
}

// (byte >> shift) & mask for each byte at p.
template <class DF>
VecI32<DF> load_bits(DF df, const uint8_t* p, int shift, int mask) {
  const hn::Rebind<int32_t, DF> d32;
  return hn::And(hn::ShiftRightSame(load_u8(df, p), shift), hn::Set(d32, mask));
}

// A layout: storage block (kSuper elements in kBytes), sub-blocks of kSub elements sharing a scale d and a
// minimum m (scales(): scalar, as quant.cpp computes them), and decode(): the f32 weights j … j+Lanes−1 of
// sub-block `sub`.
// Q8_0 and Q4_0: one sub-block, its f16 scale first, no minimum.
struct LeadingScale {
  static void scales(const uint8_t* blk, int, float* d, float* m) { *d = load_f16(blk), *m = 0.0f; }
};

struct Q8_0 : LeadingScale {
  static constexpr int64_t kSuper = 32, kBytes = 34, kSub = 32;
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int, int64_t j, hn::Vec<DF> d, hn::Vec<DF>) {
    const hn::Rebind<int8_t, DF> d8;
    const hn::Rebind<int32_t, DF> d32;
    const auto q = hn::PromoteTo(d32, hn::LoadU(d8, reinterpret_cast<const int8_t*>(blk + 2 + j)));
    return hn::Mul(hn::ConvertTo(df, q), d);
  }
};

// Q4_0 and Q4_1: byte i holds element i (low nibble) and element i + 16 (high nibble).
template <class DF>
VecI32<DF> nibbles(DF df, const uint8_t* qs, int64_t j) {
  return load_nibbles(df, qs + (j & 15), j >= 16);
}

struct Q4_0 : LeadingScale {
  static constexpr int64_t kSuper = 32, kBytes = 18, kSub = 32;
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int, int64_t j, hn::Vec<DF> d, hn::Vec<DF>) {
    const hn::Rebind<int32_t, DF> d32;
    return hn::Mul(hn::ConvertTo(df, hn::Sub(nibbles(df, blk + 2, j), hn::Set(d32, 8))), d);
  }
};

struct Q4_1 {
  static constexpr int64_t kSuper = 32, kBytes = 20, kSub = 32;
  static void scales(const uint8_t* blk, int, float* d, float* m) { *d = load_f16(blk), *m = load_f16(blk + 2); }
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int, int64_t j, hn::Vec<DF> d, hn::Vec<DF> m) {
    return hn::Add(hn::Mul(hn::ConvertTo(df, nibbles(df, blk + 4, j)), d), m);
  }
};

// Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins; x = d·sc·q − dmin·m.
struct K4Scales {
  static void scales(const uint8_t* blk, int sub, float* d, float* m) {
    int sc, mn;
    quant::k4_scale_min(blk + 4, sub, &sc, &mn);
    *d = load_f16(blk) * (float)sc;
    *m = load_f16(blk + 2) * (float)mn;
  }
};

struct Q4_K : K4Scales {
  static constexpr int64_t kSuper = 256, kBytes = 144, kSub = 32;
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int sub, int64_t j, hn::Vec<DF> d, hn::Vec<DF> m) {
    const auto q = load_nibbles(df, blk + 16 + (sub / 2) * 32 + j, sub % 2);
    return hn::Sub(hn::Mul(hn::ConvertTo(df, q), d), m);
  }
};

struct Q5_K : K4Scales {
  static constexpr int64_t kSuper = 256, kBytes = 176, kSub = 32;
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int sub, int64_t j, hn::Vec<DF> d, hn::Vec<DF> m) {
    const auto lo = load_nibbles(df, blk + 48 + (sub / 2) * 32 + j, sub % 2);
    const auto hi = load_bits(df, blk + 16 + j, sub, 1);
    return hn::Sub(hn::Mul(hn::ConvertTo(df, hn::Or(lo, hn::ShiftLeft<4>(hi))), d), m);
  }
};

// Q6_K: 16 sub-blocks of 16 with int8 scales; x = d·scale·(q − 32), q = 4 low bits | 2 high bits << 4.
struct Q6_K {
  static constexpr int64_t kSuper = 256, kBytes = 210, kSub = 16;
  static void scales(const uint8_t* blk, int sub, float* d, float* m) {
    *d = load_f16(blk + 208) * (float)static_cast<int8_t>(blk[192 + sub]);
    *m = 0.0f;
  }
  template <class DF>
  static hn::Vec<DF> decode(DF df, const uint8_t* blk, int sub, int64_t j, hn::Vec<DF> d, hn::Vec<DF>) {
    const hn::Rebind<int32_t, DF> d32;
    const int64_t e = sub * kSub + j, half = e / 128, r = e % 128;
    const auto lo = load_nibbles(df, blk + half * 64 + r % 64, r >= 64);
    const auto hi = load_bits(df, blk + 128 + half * 32 + r % 32, 2 * (int)(r / 32), 0x03);
    return hn::Mul(hn::ConvertTo(df, hn::Sub(hn::Or(lo, hn::ShiftLeft<4>(hi)), hn::Set(d32, 32))), d);
  }
};

// kR rows (of which n_rows are real) against x, one accumulator per row. 8 rows give 8 independent
// multiply-add chains, enough to hide the FMA latency that 4 chains leave exposed; each row's arithmetic is the
// same for any kR, so the result does not depend on the row grouping.
template <class Q, int kR>
void DotRowsQT(const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t n = (int64_t)hn::Lanes(df);
  const uint8_t* rows[kR];
  for (int r = 0; r < kR; ++r) rows[r] = r < n_rows ? w[r] : w[0];
  hn::Vec<decltype(df)> acc[kR];
  for (int r = 0; r < kR; ++r) acc[r] = hn::Zero(df);
  for (int64_t b = 0; b < k / Q::kSuper; ++b) {
    const uint8_t* blk[kR];
    for (int r = 0; r < kR; ++r) blk[r] = rows[r] + b * Q::kBytes;
    for (int sub = 0; sub < (int)(Q::kSuper / Q::kSub); ++sub) {
      float d[kR], m[kR];
      for (int r = 0; r < kR; ++r) Q::scales(blk[r], sub, &d[r], &m[r]);
      const float* xs = x + b * Q::kSuper + sub * Q::kSub;
      for (int64_t j = 0; j < Q::kSub; j += n) {
        const auto xv = hn::LoadU(df, xs + j);
        for (int r = 0; r < kR; ++r)
          acc[r] = hn::MulAdd(xv, Q::decode(df, blk[r], sub, j, hn::Set(df, d[r]), hn::Set(df, m[r])), acc[r]);
      }
    }
  }
  for (int r = 0; r < n_rows; ++r) out[r] = hn::GetLane(hn::SumOfLanes(df, acc[r]));
}

template <class Q>
void DotRowsQ(const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) {
  if (n_rows <= 4) {
    DotRowsQT<Q, 4>(x, w, n_rows, k, out);
  } else {
    DotRowsQT<Q, 8>(x, w, n_rows, k, out);
  }
}

// dst[0, k) = the dequantized row: the same values as quant::dequantize_row, decoded as DotRowsQ decodes them.
template <class Q>
void DequantRowQ(const uint8_t* src, float* dst, int64_t k) {
  const hn::ScalableTag<float> df;
  const int64_t n = (int64_t)hn::Lanes(df);
  for (int64_t b = 0; b < k / Q::kSuper; ++b) {
    const uint8_t* blk = src + b * Q::kBytes;
    for (int sub = 0; sub < (int)(Q::kSuper / Q::kSub); ++sub) {
      float d, m;
      Q::scales(blk, sub, &d, &m);
      const auto dv = hn::Set(df, d), mv = hn::Set(df, m);
      float* out = dst + b * Q::kSuper + sub * Q::kSub;
      for (int64_t j = 0; j < Q::kSub; j += n) hn::StoreU(Q::decode(df, blk, sub, j, dv, mv), df, out + j);
    }
  }
}

// Lanes() must divide 16 so that a vector never straddles two sub-blocks or two nibble halves.
int64_t VectorLanes() { return (int64_t)hn::Lanes(hn::ScalableTag<float>()); }

#define LLAMBA_DOT_ROWS_Q(T)                                                                 \
  void DotRows##T(const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) { \
    DotRowsQ<T>(x, w, n_rows, k, out);                                                        \
  }                                                                                           \
  void DequantRow##T(const uint8_t* src, float* dst, int64_t k) { DequantRowQ<T>(src, dst, k); }
LLAMBA_DOT_ROWS_Q(Q8_0)
LLAMBA_DOT_ROWS_Q(Q4_0)
LLAMBA_DOT_ROWS_Q(Q4_1)
LLAMBA_DOT_ROWS_Q(Q4_K)
LLAMBA_DOT_ROWS_Q(Q5_K)
LLAMBA_DOT_ROWS_Q(Q6_K)
#undef LLAMBA_DOT_ROWS_Q

}  // namespace HWY_NAMESPACE
}  // namespace llamba::ops::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llamba::ops::cpu {
HWY_EXPORT(VectorLanes);
HWY_EXPORT(DotRowsQ8_0);
HWY_EXPORT(DotRowsQ4_0);
HWY_EXPORT(DotRowsQ4_1);
HWY_EXPORT(DotRowsQ4_K);
HWY_EXPORT(DotRowsQ5_K);
HWY_EXPORT(DotRowsQ6_K);
HWY_EXPORT(DequantRowQ8_0);
HWY_EXPORT(DequantRowQ4_0);
HWY_EXPORT(DequantRowQ4_1);
HWY_EXPORT(DequantRowQ4_K);
HWY_EXPORT(DequantRowQ5_K);
HWY_EXPORT(DequantRowQ6_K);

bool has_quant_dot(core::DType t) {
  using core::DType;
  const bool type_ok = t == DType::kQ8_0 || t == DType::kQ4_0 || t == DType::kQ4_1 || t == DType::kQ4_K ||
                       t == DType::kQ5_K || t == DType::kQ6_K;
  static const bool lanes_ok = 16 % HWY_DYNAMIC_DISPATCH(VectorLanes)() == 0;
  return type_ok && lanes_ok;
}

void dot_rows_quant(core::DType t, const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out) {
  using core::DType;
  switch (t) {
    case DType::kQ8_0: return HWY_DYNAMIC_DISPATCH(DotRowsQ8_0)(x, w, n_rows, k, out);
    case DType::kQ4_0: return HWY_DYNAMIC_DISPATCH(DotRowsQ4_0)(x, w, n_rows, k, out);
    case DType::kQ4_1: return HWY_DYNAMIC_DISPATCH(DotRowsQ4_1)(x, w, n_rows, k, out);
    case DType::kQ4_K: return HWY_DYNAMIC_DISPATCH(DotRowsQ4_K)(x, w, n_rows, k, out);
    case DType::kQ5_K: return HWY_DYNAMIC_DISPATCH(DotRowsQ5_K)(x, w, n_rows, k, out);
    case DType::kQ6_K: return HWY_DYNAMIC_DISPATCH(DotRowsQ6_K)(x, w, n_rows, k, out);
    default: LLAMBA_CHECK(false, "dot_rows_quant: no kernel for {}", core::dtype_name(t));
  }
}

void dequantize_row_simd(core::DType t, const uint8_t* src, float* dst, int64_t k) {
  using core::DType;
  switch (t) {
    case DType::kQ8_0: return HWY_DYNAMIC_DISPATCH(DequantRowQ8_0)(src, dst, k);
    case DType::kQ4_0: return HWY_DYNAMIC_DISPATCH(DequantRowQ4_0)(src, dst, k);
    case DType::kQ4_1: return HWY_DYNAMIC_DISPATCH(DequantRowQ4_1)(src, dst, k);
    case DType::kQ4_K: return HWY_DYNAMIC_DISPATCH(DequantRowQ4_K)(src, dst, k);
    case DType::kQ5_K: return HWY_DYNAMIC_DISPATCH(DequantRowQ5_K)(src, dst, k);
    case DType::kQ6_K: return HWY_DYNAMIC_DISPATCH(DequantRowQ6_K)(src, dst, k);
    default: LLAMBA_CHECK(false, "dequantize_row_simd: no kernel for {}", core::dtype_name(t));
  }
}
}  // namespace llamba::ops::cpu
#endif
