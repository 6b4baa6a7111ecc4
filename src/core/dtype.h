// Element types: dense floats and ints, and the GGUF block-quantized types (blocks of `block_size` elements
// stored in `block_bytes` bytes along the fastest dimension). Conversions fp16/bf16 <-> fp32 live here too.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace llamba::core {

enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
  kF64,
  kI8,
  kI16,
  kI32,
  kI64,
  kU8,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ8_0,
  kQ2_K,  // the k-quants: super-blocks of 256 elements with 6- or 8-bit sub-block scales
  kQ3_K,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kCount,
};

struct DTypeInfo {
  std::string_view name;
  int64_t block_size;   // elements per block (1 for dense types)
  int64_t block_bytes;  // bytes per block
  bool is_float;        // dense floating point
  bool is_quantized;    // GGUF block type
};

const DTypeInfo& dtype_info(DType t);
inline std::string_view dtype_name(DType t) { return dtype_info(t).name; }
// Bytes for `n` elements; `n` must be a multiple of the block size.
int64_t dtype_bytes(DType t, int64_t n);
// Parses a name as printed by dtype_name ("f32", "q4_1", ...); returns false if unknown.
bool dtype_from_name(std::string_view name, DType* out);

inline float fp16_to_f32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, like numpy's float32 -> float16 cast.
inline uint16_t f32_to_fp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t abs = x & 0x7fffffff;
  if (abs >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0));
  if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);  // rounds to inf
  if (abs < 0x38800000u) {                                   // subnormal or zero in fp16
    if (abs < 0x33000000u) return (uint16_t)sign;            // < half of the smallest subnormal
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // 14 + (113 - e)
    uint32_t v = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (v & 1))) ++v;
    return (uint16_t)(sign | v);
  }
  uint32_t v = abs - 0x38000000u;  // rebias exponent 127 -> 15
  const uint32_t rem = v & 0x1fff;
  v >>= 13;
  if (rem > 0x1000 || (rem == 0x1000 && (v & 1))) ++v;
  return (uint16_t)(sign | v);
}

inline float bf16_to_f32(uint16_t h) {
  const uint32_t bits = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even (NaN stays NaN), like torch's float32 -> bfloat16 cast.
inline uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

}  // namespace llamba::core
