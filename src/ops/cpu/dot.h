// SIMD dot-product kernels shared by the CPU ops (Highway, one compile per target, runtime dispatch).
// Not an op: no ref twin; the ops that use it are tested against their references.
#pragma once

#include <cstdint>

namespace llamba::ops::cpu {

// out[a·ld_out + r] = Σ_k x[a][k] · w[r][k] for a < n_x, r < n_w (each 1..4). Each output is accumulated in one
// vector (a fused multiply-add per Lanes() elements, in k order), summed across lanes, and the k % Lanes() tail
// added in scalar code — the same arithmetic whatever the tile shape, so results never depend on it.
void dot_tile(const float* const* x, int n_x, const float* const* w, int n_w, int64_t k, float* out,
              int64_t ld_out);
// Σ_k a[k] · b[k].
float dot(const float* a, const float* b, int64_t k);
// y[k] += alpha · x[k].
void axpy(float alpha, const float* x, float* y, int64_t k);

}  // namespace llamba::ops::cpu
