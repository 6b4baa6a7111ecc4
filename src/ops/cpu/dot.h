// SIMD dot-product kernels shared by the CPU ops (Highway, one compile per target, runtime dispatch).
// Not an op: no ref twin; the ops that use it are tested against their references.
#pragma once

#include <cstdint>

namespace llamba::ops::cpu {

// out[r] = Σ_k x[k] · w[r][k] for r < n_rows (1..4).
void dot_rows(const float* x, const float* const* w, int n_rows, int64_t k, float* out);
// Σ_k a[k] · b[k].
float dot(const float* a, const float* b, int64_t k);
// y[k] += alpha · x[k].
void axpy(float alpha, const float* x, float* y, int64_t k);

}  // namespace llamba::ops::cpu
