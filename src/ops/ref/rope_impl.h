// rope reference kernels, templated on the scalar type (double for the reference ops, std::complex<double> for
// the complex-step gradient checks). Angles are real (positions · inv_freq in double); x is dense (T, H, hd).
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>

namespace llamba::ops::ref::impl {

// Index pair (a, b) rotated by frequency i: (2i, 2i+1) interleaved, (i, i + half) half-split.
inline void rope_pair(bool interleaved, int64_t half, int64_t i, int64_t* a, int64_t* b) {
  *a = interleaved ? 2 * i : i;
  *b = interleaved ? 2 * i + 1 : i + half;
}

// x (T, H, hd) rotated in place: (x_a, x_b) ← (x_a c − x_b s, x_b c + x_a s), angle positions[t] · inv_freq[i].
template <class S>
void rope_forward(S* x, const int64_t* positions, const float* inv_freq, int64_t half, int64_t T, int64_t H,
                  int64_t hd, bool interleaved) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double ang = (double)positions[t] * (double)inv_freq[i], c = std::cos(ang), s = std::sin(ang);
      int64_t a, b;
      rope_pair(interleaved, half, i, &a, &b);
      for (int64_t h = 0; h < H; ++h) {
        S* p = x + (t * H + h) * hd;
        const S x0 = p[a], x1 = p[b];
        p[a] = x0 * c - x1 * s;
        p[b] = x1 * c + x0 * s;
      }
    }
}

// The rotation is orthogonal, so dx += Rᵀ dy: (dx_a, dx_b) += (dy_a c + dy_b s, dy_b c − dy_a s); dims past
// 2·half are passed through (dx += dy).
template <class S>
void rope_backward(S* dx, const S* dy, const int64_t* positions, const float* inv_freq, int64_t half, int64_t T,
                   int64_t H, int64_t hd, bool interleaved) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t j = 2 * half; j < hd; ++j) dx[(t * H + h) * hd + j] += dy[(t * H + h) * hd + j];
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double ang = (double)positions[t] * (double)inv_freq[i], c = std::cos(ang), s = std::sin(ang);
      int64_t a, b;
      rope_pair(interleaved, half, i, &a, &b);
      for (int64_t h = 0; h < H; ++h) {
        const S* g = dy + (t * H + h) * hd;
        S* o = dx + (t * H + h) * hd;
        o[a] += g[a] * c + g[b] * s;
        o[b] += g[b] * c - g[a] * s;
      }
    }
}

}  // namespace llamba::ops::ref::impl
