// Gradient checks for op backward passes (docs/testing.md §"Test kinds" 2): the fp64 reference backward against a
// numerical gradient of the fp64 reference forward (complex step where the op is analytic, central differences
// otherwise), and the fp32 CPU backward against the fp64 reference backward. Each check prints its worst error/bound
// ratio so the margins stay visible in the test log.
#pragma once

#include <complex>
#include <cstdio>
#include <cstring>
#include <vector>

#include "op_test_util.h"

namespace llamba::test {

using cd = std::complex<double>;
constexpr double kEpsF64 = 2.220446049250313e-16;

// Several inputs packed into one real vector, so one numerical-gradient loop covers all of them.
struct Pack {
  std::vector<double> x;
  std::vector<size_t> off, len;
  size_t add(const std::vector<double>& v) {
    off.push_back(x.size());
    len.push_back(v.size());
    x.insert(x.end(), v.begin(), v.end());
    return off.size() - 1;
  }
  // Input `i` inside a packed vector of any scalar type.
  template <class S>
  const S* at(const std::vector<S>& v, size_t i) const {
    return v.data() + off[i];
  }
  // Input `i`'s part of a gradient over the packed vector.
  std::vector<double> part(const std::vector<double>& g, size_t i) const {
    return {g.begin() + off[i], g.begin() + off[i] + len[i]};
  }
};

// g_i = Im f(x + i·h·e_i) / h. For an analytic f this has no subtractive cancellation, so h can be tiny and the
// result is the derivative to rounding. f: (const std::vector<cd>&) -> cd.
template <class F>
std::vector<double> complex_step_grad(const std::vector<double>& x, F&& f, double h = 1e-20) {
  std::vector<cd> xc(x.begin(), x.end());
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    xc[i] = cd(x[i], h);
    g[i] = std::imag(f(xc)) / h;
    xc[i] = x[i];
  }
  return g;
}

// g_i = (f(x + h_i e_i) − f(x − h_i e_i)) / (2 h_i) with h_i = h · max(1, |x_i|): truncation error
// ~h²·|f'''|/6 ≈ 1e-12, rounding ~eps64·|f|/h ≈ 2e-10·|f|. f: (const std::vector<double>&) -> double.
template <class F>
std::vector<double> central_diff_grad(const std::vector<double>& x, F&& f, double h = 1e-6) {
  std::vector<double> xp = x, g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double hi = h * std::max(1.0, std::fabs(x[i]));
    xp[i] = x[i] + hi;
    const double fp = f(xp);
    xp[i] = x[i] - hi;
    const double fm = f(xp);
    xp[i] = x[i];
    g[i] = (fp - fm) / (2 * hi);
  }
  return g;
}

// Σ_i r_i · y_i: the scalar whose gradient the checks take; r plays the incoming gradient dy.
template <class S>
S weighted_sum(const std::vector<double>& r, const std::vector<S>& y) {
  S s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += r[i] * y[i];
  return s;
}

// Analytic vs numerical gradient: |a_i − n_i| <= rtol · (|n_i| + max_j |n_j|). The max term absorbs elements
// that are small only through cancellation. Returns the worst error/bound ratio (<= 1 passes).
inline double expect_grad_near(const std::vector<double>& analytic, const std::vector<double>& numeric, double rtol,
                               const char* what) {
  EXPECT_EQ(analytic.size(), numeric.size()) << what;
  double gmax = 0;
  for (double v : numeric) gmax = std::max(gmax, std::fabs(v));
  const Compare c = compare(analytic.data(), numeric.data(), (int64_t)numeric.size(), rtol * gmax, rtol);
  const double worst_err = c.worst >= 0 ? std::fabs(analytic[c.worst] - numeric[c.worst]) : 0.0;
  std::printf("  [grad] %-40s n=%-5zu max|g|=%-9.3g worst err %-9.3g ratio %.3g (rtol %.1g)\n", what,
              numeric.size(), gmax, worst_err, c.max_ratio, rtol);
  EXPECT_TRUE(c.ok) << what << ": element " << c.worst << " analytic " << analytic[c.worst] << " numeric "
                    << numeric[c.worst];
  return c.max_ratio;
}

// A contiguous f64 tensor holding `v`.
inline core::Tensor tensor64(const core::Shape& s, const std::vector<double>& v) {
  core::Tensor t = core::Tensor::zeros(core::DType::kF64, s);
  std::memcpy(t.f64(), v.data(), v.size() * sizeof(double));
  return t;
}
inline std::vector<double> values(const core::Tensor& t) {
  if (t.dtype() == core::DType::kF64) return {t.f64(), t.f64() + t.numel()};
  return {t.f32(), t.f32() + t.numel()};
}

// fp32 backward vs fp64 backward on the same f32 inputs, with op_test_util.h's bound
// |a − r| <= c·eps32·sqrt(K)·(scale + |r|) and NMSE <= 1e-7. K is the reduction length behind each element and
// `scale` the magnitude of the terms summed. `max_nmse` may be raised (with a comment) where the reference is
// small only through cancellation, so that only the absolute bound is meaningful. Returns the worst ratio.
inline double expect_f32_grad(const core::Tensor& got, const core::Tensor& ref, int64_t K, double scale,
                              const char* what, double c = 4.0, double max_nmse = 1e-7) {
  EXPECT_EQ(got.numel(), ref.numel()) << what;
  const int64_t n = got.numel();
  const double tol = c * kEpsF32 * std::sqrt((double)std::max<int64_t>(K, 1));
  const Compare cmp = compare(got.f32(), ref.f64(), n, tol * scale, tol);
  std::printf("  [f32 ] %-40s n=%-7lld K=%-6lld worst ratio %.3g  nmse %.2g\n", what, (long long)n, (long long)K,
              cmp.max_ratio, cmp.nmse);
  if (n > 0) {
    EXPECT_TRUE(cmp.ok) << what << ": element " << cmp.worst << " got " << got.f32()[cmp.worst] << " ref "
                        << ref.f64()[cmp.worst] << " (max abs err " << cmp.max_abs << ", bound " << tol * scale
                        << " + " << tol << "·|r|)";
    EXPECT_LE(cmp.nmse, max_nmse) << what;
  }
  return cmp.max_ratio;
}

// A zeroed gradient tensor like `shape` in f32 (cpu) or f64 (ref).
inline core::Tensor zeros32(const core::Shape& s) { return core::Tensor::zeros(core::DType::kF32, s); }
inline core::Tensor zeros64(const core::Shape& s) { return core::Tensor::zeros(core::DType::kF64, s); }

// After a backward call into zeroed buffers `first` (copied), a second identical call must leave exactly twice
// the values: the accumulation convention (+=), bit for bit since g + g is exact.
inline void expect_doubled(const core::Tensor& after_two, const std::vector<double>& after_one, const char* what) {
  const std::vector<double> v = values(after_two);
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != 2 * after_one[i]) {
      ADD_FAILURE() << what << ": not accumulated at " << i << ": " << v[i] << " vs 2 × " << after_one[i];
      return;
    }
}

// Shapes for an elementwise op's cpu backward, M rows of F features with row stride ld(): one element; one long
// row (vector tails); strided rows (ld = F + 5) of odd widths; many rows (threading).
struct ElementwiseShape {
  int64_t M, F;
  bool strided;
  int64_t ld() const { return strided ? F + 5 : F; }
};
inline constexpr ElementwiseShape kElementwiseShapes[] = {
    {1, 1, false}, {1, 2048, false}, {5, 31, true}, {3, 33, true}, {512, 48, false}};

}  // namespace llamba::test
