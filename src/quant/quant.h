// GGUF block quantization: dequantize rows of any supported type to f32, and quantize f32 rows to
// Q8_0 / Q4_0 / Q4_1 / Q5_0 / Q5_1 / Q4_K / Q5_K / Q6_K with ggml's reference rounding (so files we write match
// llama.cpp's byte for byte; the k-quant quantizers are in k_quants.cpp).
// Block layouts (32 elements along the row):
//   Q8_0: f16 d, i8 q[32]            x = q*d
//   Q4_0: f16 d, u8 qs[16]           x = (q-8)*d, byte j holds element j (low nibble) and j+16 (high nibble)
//   Q4_1: f16 d, f16 m, u8 qs[16]    x = q*d + m
//   Q5_0: f16 d, u8 qh[4], u8 qs[16] 5th bit of element j in bit j of qh; x = (q-16)*d
//   Q5_1: f16 d, f16 m, u8 qh[4], u8 qs[16]   x = q*d + m
// K-quants (super-blocks of 256 elements, ggml's k_quants; Q2_K/Q3_K dequantization only, values as ggml computes
// them):
//   Q2_K: u8 scales[16] (low nibble scale, high nibble min), u8 qs[64] (2 bits), f16 d, f16 dmin
//   Q3_K: u8 hmask[32] (3rd bit), u8 qs[64] (2 bits), u8 scales[12] (16 × 6 bits, −32), f16 d
//   Q4_K: f16 d, f16 dmin, u8 scales[12] (8 × 6-bit scale and min), u8 qs[128] (4 bits)
//   Q5_K: f16 d, f16 dmin, u8 scales[12], u8 qh[32] (5th bit), u8 qs[128]
//   Q6_K: u8 ql[128] (low 4 bits), u8 qh[64] (high 2 bits), i8 scales[16], f16 d;   x = d·scale·(q − 32)
// Dense f32/f16/bf16 rows are handled too. All functions are thread-safe (no shared state).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace llamba::quant {

// Writes `n` floats decoded from `src` (type `t`, `n` a multiple of its block size) to `dst`.
void dequantize_row(core::DType t, const void* src, float* dst, int64_t n);
// Encodes `n` floats into `dst` (type `t`: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1,
// q4_k, q5_k, q6_k).
void quantize_row(core::DType t, const float* src, void* dst, int64_t n);
// True if quantize_row supports `t`.
bool can_quantize(core::DType t);
// Q4_K/Q5_K: sub-block j's (0..7) 6-bit scale and min from the 12 packed bytes `s` (ggml's get_scale_min_k4).
void k4_scale_min(const uint8_t* s, int j, int* sc, int* m);

}  // namespace llamba::quant
