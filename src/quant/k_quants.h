// K-quant quantizers (Q4_K, Q5_K, Q6_K): one 256-element super-block at a time, with the arithmetic of ggml's
// reference quantizers (`quantize_row_q{4,5,6}_K_ref`, the path `llama-quantize` takes without an importance
// matrix), so the bytes equal llama.cpp's. Internal to src/quant: callers use quant::quantize_row.
// Every float operation keeps ggml's order and precision (fp32, no contraction: the build passes
// -ffp-contract=off); changing an expression's order changes the output bytes.
#pragma once

#include <cstdint>

namespace llamba::quant::detail {

constexpr int kSuperBlock = 256;

void quantize_q4_k_block(const float* x, uint8_t* block);  // 144 bytes: d, dmin, scales[12], qs[128]
void quantize_q5_k_block(const float* x, uint8_t* block);  // 176 bytes: d, dmin, scales[12], qh[32], qs[128]
void quantize_q6_k_block(const float* x, uint8_t* block);  // 210 bytes: ql[128], qh[64], scales[16], d

}  // namespace llamba::quant::detail
