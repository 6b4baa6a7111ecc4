// Device-side decoding of one element of a row in a dense or GGUF block type, exactly as quant::dequantize_row
// computes it on the host (q·d for Q8_0 and Q4_0, q·d + m for Q4_1, one rounding each; f16/bf16 widen exactly).
// Block layouts: quant/quant.h. Rows start at 2-byte aligned addresses (every block size here is even).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "core/dtype.h"

namespace llamba::ops::cuda {

__device__ __forceinline__ float half_at(const uint8_t* p) {
  return __half2float(__ushort_as_half(*reinterpret_cast<const unsigned short*>(p)));
}

template <core::DType T>
struct Decode;

template <>
struct Decode<core::DType::kF32> {
  static constexpr core::DType kType = core::DType::kF32;
  static __device__ __forceinline__ float at(const uint8_t* row, int64_t k) {
    return reinterpret_cast<const float*>(row)[k];
  }
};
template <>
struct Decode<core::DType::kF16> {
  static constexpr core::DType kType = core::DType::kF16;
  static __device__ __forceinline__ float at(const uint8_t* row, int64_t k) { return half_at(row + 2 * k); }
};
template <>
struct Decode<core::DType::kBF16> {
  static constexpr core::DType kType = core::DType::kBF16;
  static __device__ __forceinline__ float at(const uint8_t* row, int64_t k) {
    return __uint_as_float((uint32_t)reinterpret_cast<const unsigned short*>(row)[k] << 16);
  }
};
template <>
struct Decode<core::DType::kQ8_0> {  // f16 d, i8 q[32]
  static constexpr core::DType kType = core::DType::kQ8_0;
  static __device__ __forceinline__ float at(const uint8_t* row, int64_t k) {
    const uint8_t* b = row + (k >> 5) * 34;
    return (float)(int8_t)b[2 + (k & 31)] * half_at(b);
  }
};
template <>
struct Decode<core::DType::kQ4_0> {  // f16 d, u8 qs[16]: element j low nibble, j + 16 high nibble
  static constexpr core::DType kType = core::DType::kQ4_0;
  static __device__ __forceinline__ float at(const uint8_t* row, int64_t k) {
    const uint8_t* b = row + (k >> 5) * 18;
    const int j = (int)(k & 31);
    const int q = j < 16 ? (b[2 + j] & 0x0f) : (b[2 + j - 16] >> 4);
    return (float)(q - 8) * half_at(b);
  }
};
template <>
struct Decode<core::DType::kQ4_1> {  // f16 d, f16 m, u8 qs[16]
  static constexpr core::DType kType = core::DType::kQ4_1;
  static __device__ __forceinline__ float at(const uint8_t* row, int64_t k) {
    const uint8_t* b = row + (k >> 5) * 20;
    const int j = (int)(k & 31);
    const int q = j < 16 ? (b[4 + j] & 0x0f) : (b[4 + j - 16] >> 4);
    return __fadd_rn(__fmul_rn((float)q, half_at(b)), half_at(b + 2));
  }
};

// Eight consecutive elements k0 .. k0 + 7 (k0 a multiple of 8) at once, with wide loads: 16 bytes for f16/bf16,
// 2 × 16 for f32, 2-byte loads inside Q8_0/Q4_0 blocks, 4-byte ones inside Q4_1's (rows aligned to
// decode8_alignment, K a multiple of 8: checked by the caller). The values are those of at(), element by element.
__device__ __forceinline__ void widen_halves(const uint4 u, float* out, bool bf16) {
  const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const unsigned short lo = (unsigned short)(w[i] & 0xffff), hi = (unsigned short)(w[i] >> 16);
    out[2 * i] = bf16 ? __uint_as_float((uint32_t)lo << 16) : __half2float(__ushort_as_half(lo));
    out[2 * i + 1] = bf16 ? __uint_as_float((uint32_t)hi << 16) : __half2float(__ushort_as_half(hi));
  }
}

template <core::DType T>
__device__ __forceinline__ void decode8(const uint8_t* row, int64_t k0, float* out);

template <>
__device__ __forceinline__ void decode8<core::DType::kF32>(const uint8_t* row, int64_t k0, float* out) {
  const float4* p = reinterpret_cast<const float4*>(row + 4 * k0);
  const float4 a = p[0], b = p[1];
  out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w, out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
}
template <>
__device__ __forceinline__ void decode8<core::DType::kF16>(const uint8_t* row, int64_t k0, float* out) {
  widen_halves(*reinterpret_cast<const uint4*>(row + 2 * k0), out, false);
}
template <>
__device__ __forceinline__ void decode8<core::DType::kBF16>(const uint8_t* row, int64_t k0, float* out) {
  widen_halves(*reinterpret_cast<const uint4*>(row + 2 * k0), out, true);
}
template <>
__device__ __forceinline__ void decode8<core::DType::kQ8_0>(const uint8_t* row, int64_t k0, float* out) {
  const uint8_t* b = row + (k0 >> 5) * 34;
  const float d = half_at(b);
  const unsigned short* q = reinterpret_cast<const unsigned short*>(b + 2 + (k0 & 31));
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const unsigned short v = q[i];
    out[2 * i] = (float)(int8_t)(v & 0xff) * d;
    out[2 * i + 1] = (float)(int8_t)(v >> 8) * d;
  }
}
template <>
__device__ __forceinline__ void decode8<core::DType::kQ4_0>(const uint8_t* row, int64_t k0, float* out) {
  const uint8_t* b = row + (k0 >> 5) * 18;
  const float d = half_at(b);
  const int j0 = (int)(k0 & 31);
  const unsigned short* q = reinterpret_cast<const unsigned short*>(b + 2 + (j0 & 15));
  const int shift = j0 < 16 ? 0 : 4;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const unsigned short v = q[i];
    out[2 * i] = (float)((((v & 0xff) >> shift) & 0x0f) - 8) * d;
    out[2 * i + 1] = (float)((((v >> 8) >> shift) & 0x0f) - 8) * d;
  }
}
template <>
__device__ __forceinline__ void decode8<core::DType::kQ4_1>(const uint8_t* row, int64_t k0, float* out) {
  const uint8_t* b = row + (k0 >> 5) * 20;
  const float d = half_at(b), m = half_at(b + 2);
  const int j0 = (int)(k0 & 31);
  const uint32_t* q = reinterpret_cast<const uint32_t*>(b + 4 + (j0 & 15));
  const int shift = j0 < 16 ? 0 : 4;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const uint32_t byte = (q[i / 4] >> (8 * (i % 4))) & 0xff;
    out[i] = __fadd_rn(__fmul_rn((float)((byte >> shift) & 0x0f), d), m);
  }
}

// The alignment decode8 needs of a row's address.
__host__ __device__ constexpr int64_t decode8_alignment(core::DType t) {
  return t == core::DType::kF32 || t == core::DType::kF16 || t == core::DType::kBF16 ? 16
         : t == core::DType::kQ4_1                                                   ? 4
                                                                                     : 2;
}

// Bytes of a row of K elements of type T (K a multiple of the block size).
__host__ __device__ constexpr int64_t row_bytes(core::DType t, int64_t K) {
  switch (t) {
    case core::DType::kF32: return 4 * K;
    case core::DType::kF16:
    case core::DType::kBF16: return 2 * K;
    case core::DType::kQ8_0: return K / 32 * 34;
    case core::DType::kQ4_0: return K / 32 * 18;
    case core::DType::kQ4_1: return K / 32 * 20;
    default: return 0;
  }
}

// Calls fn(Decode<T>{}) for the runtime type `t` (one of kernels::decodes); returns false for any other type.
template <class Fn>
bool with_decoder(core::DType t, Fn&& fn) {
  switch (t) {
    case core::DType::kF32: fn(Decode<core::DType::kF32>{}); return true;
    case core::DType::kF16: fn(Decode<core::DType::kF16>{}); return true;
    case core::DType::kBF16: fn(Decode<core::DType::kBF16>{}); return true;
    case core::DType::kQ8_0: fn(Decode<core::DType::kQ8_0>{}); return true;
    case core::DType::kQ4_0: fn(Decode<core::DType::kQ4_0>{}); return true;
    case core::DType::kQ4_1: fn(Decode<core::DType::kQ4_1>{}); return true;
    default: return false;
  }
}

}  // namespace llamba::ops::cuda
