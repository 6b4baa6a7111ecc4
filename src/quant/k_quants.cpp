// K-quant quantizers, arithmetic as ggml's reference quantizers (see k_quants.h); the layouts are in quant.h.
// Each sub-block gets a scale (and for Q4_K/Q5_K a min) from a weighted least-squares search over a few
// candidate grids; the scales are then quantized to 6 or 8 bits against the super-block's f16 scale, and the
// elements re-quantized against the rounded scales.
#include "quant/k_quants.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "quant/quant.h"

namespace llamba::quant::detail {

namespace {

// Round to nearest, ties to even, for |f| < 2^22 (ggml's nearest_int: the float add does the rounding).
int nearest_int(float f) {
  const float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

void put_f16(uint8_t* p, float f) {
  const uint16_t h = core::f32_to_fp16(f);
  std::memcpy(p, &h, 2);
}
float get_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return core::fp16_to_f32(h);
}

// Levels L[i] in [0, nmax] and (scale, min) minimizing Σ w·(scale·L + min − x)², min <= 0, trying the grids
// (nmax + rmin + rdelta·k)/(max − min) for k = 0..nstep after the plain one. Returns the scale; *neg_min = −min.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min, float rmin,
                    float rdelta, int nstep) {
  float lo = x[0], hi = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
    const float wi = w[i];
    sum_w += wi;
    sum_x += wi * x[i];
  }
  if (lo > 0) lo = 0;
  if (hi == lo) {
    std::fill(L, L + n, 0);
    *neg_min = -lo;
    return 0.f;
  }
  float iscale = (float)nmax / (hi - lo);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = (uint8_t)std::clamp(nearest_int(iscale * (x[i] - lo)), 0, nmax);
    const float diff = scale * (float)L[i] + lo - x[i];
    best_error += w[i] * (diff * diff);
  }
  uint8_t trial[32];
  for (int k = 0; k <= nstep; ++k) {
    iscale = (rmin + rdelta * (float)k + (float)nmax) / (hi - lo);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * (x[i] - lo)), 0, nmax);
      trial[i] = (uint8_t)l;
      const float wl = w[i] * (float)l;
      sum_l += wl;
      sum_l2 += wl * (float)l;
      sum_xl += wl * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float err = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * (float)trial[i] + this_min - x[i];
        err += w[i] * (diff * diff);
      }
      if (err < best_error) {
        std::memcpy(L, trial, (size_t)n);
        best_error = err;
        scale = this_scale;
        lo = this_min;
      }
    }
  }
  *neg_min = -lo;
  return scale;
}

// Symmetric levels L[i] = l + nmax, l in [−nmax, nmax − 1], weights x², best of 19 grids around nmax/max|x|.
// Returns the scale (0 for an all-zero group).
float fit_scale_symmetric(int n, int nmax, const float* x, int8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < 1e-15f) {
    std::fill(L, L + n, 0);
    return 0.f;
  }
  auto level = [nmax](float v) { return std::clamp(nearest_int(v), -nmax, nmax - 1); };
  auto sums = [&](float iscale, float* sumlx, float* suml2, bool store) {
    *sumlx = *suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = level(iscale * x[i]);
      if (store) L[i] = (int8_t)(l + nmax);
      const float w = x[i] * x[i];
      *sumlx += w * x[i] * (float)l;
      *suml2 += w * (float)l * (float)l;
    }
  };
  float sumlx, suml2;
  sums((float)-nmax / max, &sumlx, &suml2, true);
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    const float iscale = -((float)nmax + 0.1f * (float)k) / max;
    sums(iscale, &sumlx, &suml2, false);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = (int8_t)(nmax + level(iscale * x[i]));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Q4_K / Q5_K share everything but the level count and search grid: 8 sub-blocks of 32 with a 6-bit scale and
// min each (packed as k4_scale_min reads them), then levels against the rounded scales. Returns levels in L.
template <int kMax>
void quantize_q45_k_scales(const float* x, uint8_t* block, uint8_t* L, float rmin, int nstep) {
  float scales[8], mins[8], weights[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = fit_scale_min(32, kMax, xs, weights, L + 32 * j, &mins[j], rmin, 0.1f, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t* s = block + 4;
  for (int j = 0; j < 8; ++j) {
    const uint8_t ls = std::min<uint8_t>(63, (uint8_t)nearest_int(inv_scale * scales[j]));
    const uint8_t lm = std::min<uint8_t>(63, (uint8_t)nearest_int(inv_min * mins[j]));
    if (j < 4) {
      s[j] = ls;
      s[j + 4] = lm;
    } else {  // low 4 bits in bytes 8..11, high 2 bits in the top of bytes 0..7
      s[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
      s[j - 4] |= (uint8_t)((ls >> 4) << 6);
      s[j] |= (uint8_t)((lm >> 4) << 6);
    }
  }
  put_f16(block, max_scale / 63.f);
  put_f16(block + 2, max_min / 63.f);
  const float d_all = get_f16(block), dmin_all = get_f16(block + 2);
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    k4_scale_min(s, j, &sc, &m);
    const float d = d_all * (float)sc;
    if (!d) continue;  // the search's levels stay (they decode to 0 · level − min)
    const float dm = dmin_all * (float)m;
    for (int i = 0; i < 32; ++i) L[32 * j + i] = (uint8_t)std::clamp(nearest_int((x[32 * j + i] + dm) / d), 0, kMax);
  }
}

}  // namespace

void quantize_q4_k_block(const float* x, uint8_t* block) {
  uint8_t L[kSuperBlock];
  std::memset(block, 0, 144);
  quantize_q45_k_scales<15>(x, block, L, -1.f, 20);
  uint8_t* q = block + 16;
  for (int j = 0; j < kSuperBlock; j += 64, q += 32)  // 64 elements per 32 bytes: low nibble j + l, high j + l + 32
    for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
}

void quantize_q5_k_block(const float* x, uint8_t* block) {
  uint8_t L[kSuperBlock];
  std::memset(block, 0, 176);
  quantize_q45_k_scales<31>(x, block, L, -0.5f, 15);
  uint8_t* qh = block + 16;
  uint8_t* ql = block + 48;
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < kSuperBlock; n += 64, ql += 32, m1 <<= 2, m2 <<= 2) {  // the 5th bits go to qh bit n/32
    for (int j = 0; j < 32; ++j) {
      int l1 = L[n + j], l2 = L[n + j + 32];
      if (l1 > 15) l1 -= 16, qh[j] |= m1;
      if (l2 > 15) l2 -= 16, qh[j] |= m2;
      ql[j] = (uint8_t)(l1 | (l2 << 4));
    }
  }
}

void quantize_q6_k_block(const float* x, uint8_t* block) {
  int8_t L[kSuperBlock];
  float scales[16];
  float max_scale = 0, max_abs_scale = 0;
  for (int ib = 0; ib < 16; ++ib) {
    scales[ib] = fit_scale_symmetric(16, 32, x + 16 * ib, L + 16 * ib);
    const float a = std::fabs(scales[ib]);
    if (a > max_abs_scale) {
      max_abs_scale = a;
      max_scale = scales[ib];
    }
  }
  std::memset(block, 0, 210);
  if (max_abs_scale < 1e-15f) return;  // all zero: d = 0
  const float iscale = -128.f / max_scale;
  put_f16(block + 208, 1 / iscale);
  auto* sc = reinterpret_cast<int8_t*>(block + 192);
  for (int ib = 0; ib < 16; ++ib) sc[ib] = (int8_t)std::min(127, nearest_int(iscale * scales[ib]));
  const float d_all = get_f16(block + 208);
  for (int j = 0; j < 16; ++j) {
    const float d = d_all * (float)sc[j];
    if (!d) continue;
    for (int i = 0; i < 16; ++i) L[16 * j + i] = (int8_t)(std::clamp(nearest_int(x[16 * j + i] / d), -32, 31) + 32);
  }
  uint8_t* ql = block;
  uint8_t* qh = block + 128;
  for (int j = 0; j < kSuperBlock; j += 128, ql += 64, qh += 32) {  // 4 quarter rows of 32: nibbles and 2-bit tops
    for (int l = 0; l < 32; ++l) {
      const int a = L[j + l], b = L[j + l + 32], c = L[j + l + 64], e = L[j + l + 96];
      ql[l] = (uint8_t)((a & 0xF) | ((c & 0xF) << 4));
      ql[l + 32] = (uint8_t)((b & 0xF) | ((e & 0xF) << 4));
      qh[l] = (uint8_t)((a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6));
    }
  }
}

}  // namespace llamba::quant::detail
