// Highway implementation of gemm_acc_f32, compiled for every x86 target and dispatched at runtime.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/cpu/gemm.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cstring>

#include "ops/cpu/gemm.h"

HWY_BEFORE_NAMESPACE();
namespace llamba::ops::cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// A kR-row × kV-vector tile of C held in registers for the whole k loop: per k, kV loads of B and kR broadcasts
// of A feed kR·kV multiply-adds. With kMasked the last vector covers only `last` lanes, moved through a zeroed
// stack buffer (Highway's MaskedLoad is a full aligned load below AVX2: it could read past the row).
template <int kR, int kV, bool kMasked>
HWY_INLINE void Tile(int64_t K, const float* HWY_RESTRICT A, int64_t lda, const float* HWY_RESTRICT B,
                     int64_t ldb, float* HWY_RESTRICT C, int64_t ldc, size_t last) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  HWY_ALIGN float tail[HWY_MAX_BYTES / sizeof(float)] = {};
  const auto load = [&](const float* p, int v) {
    if (kMasked && v == kV - 1) {
      std::memcpy(tail, p + v * n, last * sizeof(float));
      return hn::Load(d, tail);
    }
    return hn::LoadU(d, p + v * n);
  };
  hn::Vec<decltype(d)> acc[kR][kV];
  for (int r = 0; r < kR; ++r)
    for (int v = 0; v < kV; ++v) acc[r][v] = load(C + r * ldc, v);
  for (int64_t k = 0; k < K; ++k) {
    hn::Vec<decltype(d)> b[kV];
    for (int v = 0; v < kV; ++v) b[v] = load(B + k * ldb, v);
    for (int r = 0; r < kR; ++r) {
      const auto a = hn::Set(d, A[r * lda + k]);
      for (int v = 0; v < kV; ++v) acc[r][v] = hn::MulAdd(a, b[v], acc[r][v]);
    }
  }
  for (int r = 0; r < kR; ++r)
    for (int v = 0; v < kV; ++v) {
      float* p = C + r * ldc + v * n;
      if (kMasked && v == kV - 1) {
        hn::Store(acc[r][v], d, tail);
        std::memcpy(p, tail, last * sizeof(float));
      } else {
        hn::StoreU(acc[r][v], d, p);
      }
    }
}

template <int kR>
HWY_INLINE void RowStrip(int64_t Nc, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
                         int64_t ldc) {
  const int64_t n = (int64_t)hn::Lanes(hn::ScalableTag<float>());
  int64_t j = 0;
  for (; j + 2 * n <= Nc; j += 2 * n) Tile<kR, 2, false>(K, A, lda, B + j, ldb, C + j, ldc, n);
  for (; j + n <= Nc; j += n) Tile<kR, 1, false>(K, A, lda, B + j, ldb, C + j, ldc, n);
  if (j < Nc) Tile<kR, 1, true>(K, A, lda, B + j, ldb, C + j, ldc, (size_t)(Nc - j));
}

void GemmAccImpl(int64_t M, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                 float* C, int64_t ldc) {
  int64_t i = 0;
  for (; i + 4 <= M; i += 4) RowStrip<4>(Nc, K, A + i * lda, lda, B, ldb, C + i * ldc, ldc);
  for (; i < M; ++i) RowStrip<1>(Nc, K, A + i * lda, lda, B, ldb, C + i * ldc, ldc);
}

}  // namespace HWY_NAMESPACE
}  // namespace llamba::ops::cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace llamba::ops::cpu {
HWY_EXPORT(GemmAccImpl);

void gemm_acc_f32(int64_t M, int64_t Nc, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                  float* C, int64_t ldc) {
  if (M <= 0 || Nc <= 0) return;
  HWY_DYNAMIC_DISPATCH(GemmAccImpl)(M, Nc, K, A, lda, B, ldb, C, ldc);
}
}  // namespace llamba::ops::cpu
#endif
