// rope on the CPU, forward and backward: tokens split across threads; angles in fp32 as transformers, cos/sin
// of them in double. Backward convention: dx is accumulated into (+=); callers zero it.
#include "ops/rope.h"

#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops {

// Host math shared by every backend (the frequencies are computed once per model).
std::vector<float> rope_inv_freq(int64_t rot_dim, double base, std::span<const float> factors) {
  LLAMBA_ENSURE(rot_dim % 2 == 0 && rot_dim > 0, "[rope] rotary dim {} must be even", rot_dim);
  LLAMBA_ENSURE(factors.empty() || (int64_t)factors.size() == rot_dim / 2, "[rope] {} factors for {} frequencies",
               factors.size(), rot_dim / 2);
  std::vector<float> inv(rot_dim / 2);
  for (int64_t i = 0; i < rot_dim / 2; ++i) {
    // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), in fp32.
    const float e = (float)(2 * i) / (float)rot_dim;
    inv[i] = 1.0f / std::pow((float)base, e);
    if (!factors.empty()) inv[i] /= factors[i];
  }
  return inv;
}

}  // namespace llamba::ops

namespace llamba::ops::cpu {

void rope_forward(core::ThreadPool& pool, const core::TensorView& x, std::span<const int64_t> positions,
                  std::span<const float> inv_freq, RopeStyle style) {
  check_rope("rope_forward", x, {}, positions, inv_freq);
  const int64_t T = x.size(0), H = x.size(1), half = (int64_t)inv_freq.size();
  pool.parallel_for(T, [&](int64_t t0, int64_t t1) {
    std::vector<float> c(half), s(half);
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t i = 0; i < half; ++i) {
        const float a = (float)positions[t] * inv_freq[i];
        c[i] = (float)std::cos((double)a);
        s[i] = (float)std::sin((double)a);
      }
      for (int64_t h = 0; h < H; ++h) {
        float* p = x.f32() + t * x.strides[0] + h * x.strides[1];
        for (int64_t i = 0; i < half; ++i) {
          float* a = style == RopeStyle::kInterleaved ? p + 2 * i : p + i;
          float* b = style == RopeStyle::kInterleaved ? p + 2 * i + 1 : p + i + half;
          const float x0 = *a, x1 = *b;
          *a = x0 * c[i] - x1 * s[i];
          *b = x1 * c[i] + x0 * s[i];
        }
      }
    }
  });
}

void rope_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dy,
                   std::span<const int64_t> positions, std::span<const float> inv_freq, RopeStyle style) {
  check_rope("rope_backward", dy, dx, positions, inv_freq);
  if (!dx.data) return;
  const int64_t T = dy.size(0), H = dy.size(1), hd = dy.size(2), half = (int64_t)inv_freq.size();
  pool.parallel_for(T, [&](int64_t t0, int64_t t1) {
    std::vector<float> c(half), s(half);
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t i = 0; i < half; ++i) {  // the forward's angles, exactly
        const float a = (float)positions[t] * inv_freq[i];
        c[i] = (float)std::cos((double)a);
        s[i] = (float)std::sin((double)a);
      }
      for (int64_t h = 0; h < H; ++h) {
        const float* g = dy.f32() + t * dy.strides[0] + h * dy.strides[1];
        float* o = dx.f32() + t * dx.strides[0] + h * dx.strides[1];
        for (int64_t i = 0; i < half; ++i) {
          const int64_t a = style == RopeStyle::kInterleaved ? 2 * i : i;
          const int64_t b = style == RopeStyle::kInterleaved ? 2 * i + 1 : i + half;
          const float ga = g[a], gb = g[b];
          o[a] += ga * c[i] + gb * s[i];
          o[b] += gb * c[i] - ga * s[i];
        }
        for (int64_t j = 2 * half; j < hd; ++j) o[j] += g[j];
      }
    }
  });
}

}  // namespace llamba::ops::cpu
