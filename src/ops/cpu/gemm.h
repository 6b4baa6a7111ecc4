// The small row-major GEMM of the chunked recurrences (Highway, one compile per target, runtime dispatch).
// Not an op: no ref twin; the ops that use it are tested against their references.
#pragma once

#include <cstdint>

namespace llamba::ops::cpu {

// C (M × Nc, ldc) += A (M × K, lda) · B (K × Nc, ldb). Every element is one vector lane fed by a fused
// multiply-add per k, in k order (column tails in the same vector arithmetic, not scalar code), so an element's value
// depends neither on the tile it falls in nor on M or Nc.
void gemm_acc_f32(int64_t M, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                  float* C, int64_t ldc);

}  // namespace llamba::ops::cpu
