// SIMD dot products of f32 vectors with rows of GGUF block-quantized weights, decoding each block in registers
// (Highway, one compile per target, runtime dispatch). Decode-time matrix-vector products read the weights once
// at their quantized size instead of dequantizing them into a buffer first.
// Bit-identical to dequantize_row followed by dot_tile: the same per-element dequantized values (q·d, (q−8)·d,
// q·d + m, d·sc·q − dmin·m, …, each rounded as quant.cpp does) meet the same SIMD accumulation order.
// Not an op: no ref twin; linear's tests cover it against the reference.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace llamba::ops::cpu {

// True for the types dot_rows_quant and dequantize_row_simd decode: Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K.
bool has_quant_dot(core::DType t);
// out[r] = Σ_k x[k] · dequant(w[r])[k] for r < n_rows (1..8); w[r] a row of type `t`, `k` a multiple of its block.
void dot_rows_quant(core::DType t, const float* x, const uint8_t* const* w, int n_rows, int64_t k, float* out);
// quant::dequantize_row for those types (the same values), vectorized: prefill's dequantized weight blocks.
void dequantize_row_simd(core::DType t, const uint8_t* src, float* dst, int64_t k);

}  // namespace llamba::ops::cpu
