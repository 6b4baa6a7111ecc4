// Block (de)quantization kernels, scalar; rounding follows ggml's quantize_row_*_ref.
#include "quant/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"
#include "quant/k_quants.h"

namespace llamba::quant {

using core::DType;

namespace {

constexpr int kQK = 32;

uint16_t ld16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
void st16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
float f16(const uint8_t* p) { return core::fp16_to_f32(ld16(p)); }

void dequant_q8_0(const uint8_t* b, float* y) {
  const float d = f16(b);
  const int8_t* q = reinterpret_cast<const int8_t*>(b + 2);
  for (int j = 0; j < kQK; ++j) y[j] = (float)q[j] * d;
}

void dequant_q4_0(const uint8_t* b, float* y) {
  const float d = f16(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = (float)((qs[j] & 0x0f) - 8) * d;
    y[j + kQK / 2] = (float)((qs[j] >> 4) - 8) * d;
  }
}

void dequant_q4_1(const uint8_t* b, float* y) {
  const float d = f16(b), m = f16(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = (float)(qs[j] & 0x0f) * d + m;
    y[j + kQK / 2] = (float)(qs[j] >> 4) * d + m;
  }
}

template <bool kHasMin>
void dequant_q5(const uint8_t* b, float* y) {
  const float d = f16(b);
  const float m = kHasMin ? f16(b + 2) : 0.0f;
  uint32_t qh;
  std::memcpy(&qh, b + (kHasMin ? 4 : 2), 4);
  const uint8_t* qs = b + (kHasMin ? 8 : 6);
  for (int j = 0; j < kQK / 2; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10;
    const int h1 = (qh >> (j + 12)) & 0x10;
    const int q0 = (qs[j] & 0x0f) | h0, q1 = (qs[j] >> 4) | h1;
    if (kHasMin) {
      y[j] = (float)q0 * d + m;
      y[j + kQK / 2] = (float)q1 * d + m;
    } else {
      y[j] = (float)(q0 - 16) * d;
      y[j + kQK / 2] = (float)(q1 - 16) * d;
    }
  }
}

// ---- k-quants: each function decodes one 256-element super-block; float operations in ggml's order.
constexpr int kQK_K = 256;

void dequant_q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const float d = f16(b + 80), dmin = f16(b + 82);
  for (int half = 0; half < 2; ++half) {  // element half·128 + shift·32 + l: 2 bits of qs[half·32 + l]
    const uint8_t* qs = b + 16 + half * 32;
    for (int shift = 0; shift < 4; ++shift) {
      for (int part = 0; part < 2; ++part) {  // 16 elements per scale
        const uint8_t sc = *scales++;
        const float dl = d * (float)(sc & 0xF), ml = dmin * (float)(sc >> 4);
        for (int l = part * 16; l < part * 16 + 16; ++l) *y++ = dl * (float)((qs[l] >> (2 * shift)) & 3) - ml;
      }
    }
  }
}

// Q3_K's 16 six-bit scales: the low 4 bits in nibbles of bytes 0–7, the high 2 bits in bytes 8–11.
int q3_k_scale(const uint8_t* s, int i) {
  const int lo = i < 8 ? (s[i] & 0xF) : (s[i - 8] >> 4);
  const int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

void dequant_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* scales = b + 96;
  const float d = f16(b + 108);
  int is = 0;
  for (int half = 0; half < 2; ++half) {  // as Q2_K; the third bit of element e is bit e / 32 of hmask[e % 32]
    const uint8_t* qs = b + 32 + half * 32;
    for (int shift = 0; shift < 4; ++shift) {
      const int hbit = half * 4 + shift;
      for (int part = 0; part < 2; ++part) {
        const float dl = d * (float)q3_k_scale(scales, is++);
        for (int l = part * 16; l < part * 16 + 16; ++l) {
          const int low = (qs[l] >> (2 * shift)) & 3;
          *y++ = dl * (float)(low - (((hmask[l] >> hbit) & 1) ? 0 : 4));  // a set bit means no −4 offset
        }
      }
    }
  }
}

// Q4_K (qh == nullptr) and Q5_K: element e = chunk·64 + nibble·32 + l.
void dequant_q4_5_k(const uint8_t* b, const uint8_t* qh, const uint8_t* qs, float* y) {
  const float d = f16(b), dmin = f16(b + 2);
  for (int j = 0; j < 8; ++j) {  // 32-element sub-blocks
    int sc, m;
    k4_scale_min(b + 4, j, &sc, &m);
    const float d1 = d * (float)sc, m1 = dmin * (float)m;
    for (int l = 0; l < 32; ++l) {
      const int e = j * 32 + l;
      int q = (qs[(j / 2) * 32 + l] >> (4 * (j % 2))) & 0xF;
      if (qh) q |= ((qh[l] >> j) & 1) << 4;
      y[e] = d1 * (float)q - m1;
    }
  }
}

void dequant_q6_k(const uint8_t* b, float* y) {
  const auto* scales = reinterpret_cast<const int8_t*>(b + 192);
  const float d = f16(b + 208);
  for (int half = 0; half < 2; ++half) {  // element half·128 + r: low 4 bits from ql, high 2 bits from qh
    const uint8_t* ql = b + half * 64;
    const uint8_t* qh = b + 128 + half * 32;
    for (int r = 0; r < 128; r += 16) {
      const float dl = d * (float)scales[half * 8 + r / 16];
      for (int i = r; i < r + 16; ++i) {
        const int low = (ql[i % 64] >> (4 * (i / 64))) & 0xF;
        const int high = (qh[i % 32] >> (2 * (i / 32))) & 3;
        *y++ = dl * (float)((low | (high << 4)) - 32);
      }
    }
  }
}

void quant_q8_0(const float* x, uint8_t* b) {
  float amax = 0;
  for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  st16(b, core::f32_to_fp16(d));
  int8_t* q = reinterpret_cast<int8_t*>(b + 2);
  for (int j = 0; j < kQK; ++j) q[j] = (int8_t)std::lround(x[j] * id);
}

void quant_q4_0(const float* x, uint8_t* b) {
  float amax = 0, max = 0;
  for (int j = 0; j < kQK; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  const float d = max / -8.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  st16(b, core::f32_to_fp16(d));
  uint8_t* qs = b + 2;
  for (int j = 0; j < kQK / 2; ++j) {
    const uint8_t q0 = (uint8_t)std::min(15, (int)(int8_t)(x[j] * id + 8.5f));
    const uint8_t q1 = (uint8_t)std::min(15, (int)(int8_t)(x[j + kQK / 2] * id + 8.5f));
    qs[j] = q0 | (uint8_t)(q1 << 4);
  }
}

void quant_q4_1(const float* x, uint8_t* b) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < kQK; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  const float d = (hi - lo) / 15.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  st16(b, core::f32_to_fp16(d));
  st16(b + 2, core::f32_to_fp16(lo));
  uint8_t* qs = b + 4;
  for (int j = 0; j < kQK / 2; ++j) {
    const uint8_t q0 = (uint8_t)std::min(15, (int)(int8_t)((x[j] - lo) * id + 0.5f));
    const uint8_t q1 = (uint8_t)std::min(15, (int)(int8_t)((x[j + kQK / 2] - lo) * id + 0.5f));
    qs[j] = q0 | (uint8_t)(q1 << 4);
  }
}

template <bool kHasMin>
void quant_q5(const float* x, uint8_t* b) {
  float d, id, lo = 0;
  if (kHasMin) {
    lo = x[0];
    float hi = x[0];
    for (int j = 1; j < kQK; ++j) {
      lo = std::min(lo, x[j]);
      hi = std::max(hi, x[j]);
    }
    d = (hi - lo) / 31.0f;
    st16(b, core::f32_to_fp16(d));
    st16(b + 2, core::f32_to_fp16(lo));
  } else {
    float amax = 0, max = 0;
    for (int j = 0; j < kQK; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    d = max / -16.0f;
    st16(b, core::f32_to_fp16(d));
  }
  id = d != 0 ? 1.0f / d : 0.0f;
  uint32_t qh = 0;
  uint8_t* qs = b + (kHasMin ? 8 : 6);
  for (int j = 0; j < kQK / 2; ++j) {
    int q0, q1;
    if (kHasMin) {
      q0 = (int)(int8_t)((x[j] - lo) * id + 0.5f);
      q1 = (int)(int8_t)((x[j + kQK / 2] - lo) * id + 0.5f);
    } else {
      q0 = std::min(31, (int)(int8_t)(x[j] * id + 16.5f));
      q1 = std::min(31, (int)(int8_t)(x[j + kQK / 2] * id + 16.5f));
    }
    qs[j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
    qh |= (uint32_t)((q0 & 0x10) >> 4) << j;
    qh |= (uint32_t)((q1 & 0x10) >> 4) << (j + kQK / 2);
  }
  std::memcpy(b + (kHasMin ? 4 : 2), &qh, 4);
}

template <class F>
void for_blocks(DType t, int64_t n, F&& f) {
  const auto& info = core::dtype_info(t);
  LLAMBA_CHECK(n % info.block_size == 0, "{} elements of {}", n, info.name);
  for (int64_t i = 0; i < n / info.block_size; ++i) f(i * info.block_bytes, i * info.block_size);
}

}  // namespace

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  const uint8_t* s = static_cast<const uint8_t*>(src);
  switch (t) {
    case DType::kF32: std::memcpy(dst, src, (size_t)n * 4); return;
    case DType::kF16: for (int64_t i = 0; i < n; ++i) dst[i] = core::fp16_to_f32(ld16(s + 2 * i)); return;
    case DType::kBF16: for (int64_t i = 0; i < n; ++i) dst[i] = core::bf16_to_f32(ld16(s + 2 * i)); return;
    case DType::kQ8_0: for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q8_0(s + b, dst + e); }); return;
    case DType::kQ4_0: for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q4_0(s + b, dst + e); }); return;
    case DType::kQ4_1: for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q4_1(s + b, dst + e); }); return;
    case DType::kQ5_0: for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q5<false>(s + b, dst + e); }); return;
    case DType::kQ5_1: for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q5<true>(s + b, dst + e); }); return;
    case DType::kQ2_K: for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q2_k(s + b, dst + e); }); return;
    case DType::kQ3_K: for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q3_k(s + b, dst + e); }); return;
    case DType::kQ4_K:
      for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q4_5_k(s + b, nullptr, s + b + 16, dst + e); });
      return;
    case DType::kQ5_K:
      for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q4_5_k(s + b, s + b + 16, s + b + 48, dst + e); });
      return;
    case DType::kQ6_K: for_blocks(t, n, [&](int64_t b, int64_t e) { dequant_q6_k(s + b, dst + e); }); return;
    default: LLAMBA_CHECK(false, "cannot dequantize {}", core::dtype_name(t));
  }
}

void k4_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

bool can_quantize(DType t) {
  switch (t) {
    case DType::kF32: case DType::kF16: case DType::kBF16: case DType::kQ8_0:
    case DType::kQ4_0: case DType::kQ4_1: case DType::kQ5_0: case DType::kQ5_1:
    case DType::kQ4_K: case DType::kQ5_K: case DType::kQ6_K: return true;
    default: return false;
  }
}

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  uint8_t* d = static_cast<uint8_t*>(dst);
  switch (t) {
    case DType::kF32: std::memcpy(dst, src, (size_t)n * 4); return;
    case DType::kF16: for (int64_t i = 0; i < n; ++i) st16(d + 2 * i, core::f32_to_fp16(src[i])); return;
    case DType::kBF16: for (int64_t i = 0; i < n; ++i) st16(d + 2 * i, core::f32_to_bf16(src[i])); return;
    case DType::kQ8_0: for_blocks(t, n, [&](int64_t b, int64_t e) { quant_q8_0(src + e, d + b); }); return;
    case DType::kQ4_0: for_blocks(t, n, [&](int64_t b, int64_t e) { quant_q4_0(src + e, d + b); }); return;
    case DType::kQ4_1: for_blocks(t, n, [&](int64_t b, int64_t e) { quant_q4_1(src + e, d + b); }); return;
    case DType::kQ5_0: for_blocks(t, n, [&](int64_t b, int64_t e) { quant_q5<false>(src + e, d + b); }); return;
    case DType::kQ5_1: for_blocks(t, n, [&](int64_t b, int64_t e) { quant_q5<true>(src + e, d + b); }); return;
    case DType::kQ4_K:
      for_blocks(t, n, [&](int64_t b, int64_t e) { detail::quantize_q4_k_block(src + e, d + b); });
      return;
    case DType::kQ5_K:
      for_blocks(t, n, [&](int64_t b, int64_t e) { detail::quantize_q5_k_block(src + e, d + b); });
      return;
    case DType::kQ6_K:
      for_blocks(t, n, [&](int64_t b, int64_t e) { detail::quantize_q6_k_block(src + e, d + b); });
      return;
    default: LLAMBA_CHECK(false, "cannot quantize to {}", core::dtype_name(t));
  }
}

}  // namespace llamba::quant
