// gemm_acc_f32 (the chunked recurrences' small GEMM): within the fp32 error bound of an fp64 product for shapes
// that hit every tile and tail, on every compiled SIMD target, leaves the padding of strided rows untouched, and
// gives each element the same bits whatever block of the product it is computed in (the property the
// mode-equivalence tests rely on).
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ops/cpu/gemm.h"

namespace llamba {
namespace {

struct Shape {
  int64_t M, Nc, K;
};

class GemmAcc : public ::testing::TestWithParam<Shape> {};

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// The product into padded rows against fp64, and the padding left as it was.
void expect_bound_and_padding(const Shape& shape) {
  const auto [M, Nc, K] = shape;
  const int64_t lda = K + 3, ldb = Nc + 5, ldc = Nc + 2;  // padded rows: the kernel must respect the strides
  std::mt19937 rng(uint32_t(M * 1000003 + Nc * 1009 + K));
  const std::vector<float> A = random_floats(M * lda, rng), B = random_floats(K * ldb, rng);
  std::vector<float> C = random_floats(M * ldc, rng);
  const std::vector<float> C0 = C;
  ops::cpu::gemm_acc_f32(M, Nc, K, A.data(), lda, B.data(), ldb, C.data(), ldc);
  // Each element is K + 1 roundings of a sum: |error| <= γ_{K+1} (|c0| + Σ|a·b|), γ_n = n·u / (1 − n·u).
  const double u = std::ldexp(1.0, -24), gamma = (K + 1) * u / (1 - (K + 1) * u);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = size_t(i * ldc + j);
      if (j >= Nc) {
        EXPECT_EQ(std::memcmp(&C[at], &C0[at], sizeof(float)), 0) << "padding written at " << i << "," << j;
        continue;
      }
      double ref = C0[at], mag = std::fabs(C0[at]);
      for (int64_t k = 0; k < K; ++k) {
        ref += double(A[i * lda + k]) * B[k * ldb + j];
        mag += std::fabs(double(A[i * lda + k]) * B[k * ldb + j]);
      }
      EXPECT_LE(std::fabs(C[at] - ref), gamma * mag) << i << "," << j;
    }
  }
}

TEST_P(GemmAcc, WithinTheFp32BoundAndPaddingUntouched) { expect_bound_and_padding(GetParam()); }

// Every target compiled in and supported here (SSE2 … AVX2 / AVX-512), not only the one dispatch picks: the
// column tails must not read or write past a row on any of them.
TEST(GemmAccTargets, EveryTargetWithinTheBound) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    SCOPED_TRACE(hwy::TargetName(target));
    hwy::SetSupportedTargetsForTest(target);
    for (const Shape& s : {Shape{3, 5, 7}, Shape{7, 33, 65}, Shape{5, 100, 3}}) expect_bound_and_padding(s);
  }
  hwy::SetSupportedTargetsForTest(0);  // back to the real CPU's targets
}

TEST_P(GemmAcc, AnElementHasTheSameBitsInAnyBlock) {
  const auto [M, Nc, K] = GetParam();
  std::mt19937 rng(7);
  const std::vector<float> A = random_floats(M * K, rng), B = random_floats(K * Nc, rng),
                           C0 = random_floats(M * Nc, rng);
  std::vector<float> full = C0;
  ops::cpu::gemm_acc_f32(M, Nc, K, A.data(), K, B.data(), Nc, full.data(), Nc);
  // The same product as blocks of every row count and column offset: row i0.., columns j0.. .
  for (int64_t i0 = 0; i0 < M; i0 += 3)
    for (int64_t j0 = 0; j0 < Nc; j0 += 7) {
      const int64_t m = std::min<int64_t>(5, M - i0), n = Nc - j0;
      std::vector<float> part = C0;
      // Pointer arithmetic, not &A[..]: with K = 0 the vectors are empty and operator[] would bind a null reference.
      ops::cpu::gemm_acc_f32(m, n, K, A.data() + i0 * K, K, B.data() + j0, Nc, part.data() + i0 * Nc + j0, Nc);
      for (int64_t i = i0; i < i0 + m; ++i)
        for (int64_t j = j0; j < Nc; ++j)
          ASSERT_EQ(std::memcmp(&part[i * Nc + j], &full[i * Nc + j], sizeof(float)), 0) << i << "," << j;
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmAcc,
                         ::testing::Values(Shape{1, 1, 1}, Shape{3, 5, 7}, Shape{4, 16, 64}, Shape{7, 33, 65},
                                           Shape{64, 64, 64}, Shape{5, 100, 3}, Shape{9, 8, 0}));

}  // namespace
}  // namespace llamba
