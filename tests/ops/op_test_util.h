// Helpers for op tests: random f32 tensors and a cpu-vs-ref comparison with the tolerance of
// docs/testing.md §"Tolerances": |a - r| <= atol + c·eps·sqrt(K)·|r| (K = reduction length) plus NMSE <= 1e-7.
#pragma once

#include "test_util.h"

namespace llamba::test {

inline core::Tensor rand_tensor(core::Rng& rng, const core::Shape& s, double scale = 1.0) {
  return core::Tensor::from_f32(s, randn(rng, s.numel(), scale));
}

// ref is computed in double from the same f32 inputs; `scale` is the magnitude the errors scale with (e.g.
// sqrt(K)·|x|·|w| for a dot product); atol = c·eps·sqrt(K)·scale.
inline void expect_close(const float* got, const double* ref, int64_t n, int64_t K, double scale,
                         const char* what, double c = 4.0) {
  const double tol = c * kEpsF32 * std::sqrt((double)std::max<int64_t>(K, 1));
  const Compare cmp = compare(got, ref, n, tol * scale, tol);
  EXPECT_TRUE(cmp.ok) << what << ": worst element " << cmp.worst << " got " << got[cmp.worst] << " ref "
                      << ref[cmp.worst] << " (max abs err " << cmp.max_abs << ")";
  EXPECT_LE(cmp.nmse, 1e-7) << what;
}

inline std::vector<double> to_f64(const core::Tensor& t) {
  return std::vector<double>(t.f32(), t.f32() + t.numel());
}

}  // namespace llamba::test
