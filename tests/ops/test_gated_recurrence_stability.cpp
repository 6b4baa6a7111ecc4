// gated_recurrence stability and padding semantics (docs/recurrence.md §"Numerical contract", §"Tests" 3 and 7):
// padding steps, a = 0 exactly (log a = −inf) as a clean reset, strong decays over long sequences, log a > 0 clamped.
#include <gtest/gtest.h>

#include <limits>

#include "ops/gated_recurrence_testing.h"

namespace llamba::test::gr {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Variant {
  Backend be;
  DType dt;
};
constexpr Variant kVariants[] = {{Backend::kRef, DType::kF64}, {Backend::kCpu, DType::kF64}, {Backend::kCpu, DType::kF32}};
double tol(DType dt) { return dt == DType::kF64 ? kTolF64 : kTolF32; }

// Appends (or prepends) `pad` steps of the given kind to every batch row.
enum class Pad { kFull, kOnlyV };
Data pad_time(const Data& d, int64_t pad, bool front, Pad kind, uint64_t seed) {
  const Config& c = d.c;
  core::Rng rng(seed);
  Data r = d;
  r.c.T = c.T + pad;
  auto grow = [&](const std::vector<double>& x, int64_t inner, bool zero, bool gate) {
    std::vector<double> out;
    for (int64_t b = 0; b < c.B; ++b) {
      std::vector<double> p(pad * inner);
      for (double& e : p) e = zero ? 0.0 : gate ? -softplus(-rng.normal()) : rng.normal();
      auto row0 = x.begin() + b * c.T * inner, row1 = x.begin() + (b + 1) * c.T * inner;
      if (front) out.insert(out.end(), p.begin(), p.end());
      out.insert(out.end(), row0, row1);
      if (!front) out.insert(out.end(), p.begin(), p.end());
    }
    return out;
  };
  const bool full = kind == Pad::kFull;
  r.q = grow(d.q, c.G * c.N, false, false);  // the readout of padded steps is irrelevant to the state
  r.k = grow(d.k, c.G * c.N, full, false);
  r.v = grow(d.v, c.H * c.P, true, false);
  const int64_t gi = c.H * (c.vector_gate ? c.N : 1);
  r.g = grow(d.g, gi, full, true);
  if (c.complex) r.th = grow(d.th, gi, full, false);
  return r;
}

// The outputs of steps [t0, t0 + T) of `x`, for each batch row.
std::vector<double> y_window(const Out& x, const Config& c, int64_t T_total, int64_t t0) {
  std::vector<double> y;
  const int64_t row = c.H * c.P;
  for (int64_t b = 0; b < c.B; ++b)
    y.insert(y.end(), x.y.begin() + (b * T_total + t0) * row, x.y.begin() + (b * T_total + t0 + c.T) * row);
  return y;
}

// §"Tests" 7 / §"Numerical contract" 6: padding with k = v = 0 and log a = 0 (θ = 0) leaves outputs and the final state
// unchanged, at the back (chunk padding) and at the front (the state passes through); masking only v does not.
TEST(GatedRecurrenceStability, PaddingLeavesOutputAndStateUnchanged) {
  ops::Context ctx(2);
  for (bool vec : {false, true})
    for (bool cplx : {false, true}) {
      Config c;
      c.B = 2, c.T = 50, c.H = 2, c.N = 4, c.P = 3, c.vector_gate = vec, c.complex = cplx, c.seed = 12;
      const Data d = make_data(c);
      for (bool front : {false, true}) {
        const Data padded = pad_time(d, 14, front, Pad::kFull, 3);
        const Data masked = pad_time(d, 14, front, Pad::kOnlyV, 3);
        for (const Variant& va : kVariants)
          for (RecurrenceMode m : kAllModes) {
            const RunOpts o{va.be, va.dt, m, 16, 1.0, &ctx};
            SCOPED_TRACE(describe(o) + (front ? " front" : " back") + (vec ? " vector" : " scalar") +
                         (cplx ? " complex" : " real"));
            const Out base = run(d, o), p = run(padded, o), mv = run(masked, o);
            const std::vector<double> yp = y_window(p, c, padded.c.T, front ? 14 : 0);
            EXPECT_LE(rel_max_error(yp.data(), base.y.data(), (int64_t)yp.size()), tol(va.dt));
            Out ps{base.y, p.s_re, p.s_im};
            EXPECT_LE(error(ps, base).worst(), tol(va.dt));
            // Masking only v decays the state through the padding: the final state (back padding) or the
            // outputs that still see the initial state (front padding) change.
            const std::vector<double> ym = y_window(mv, c, padded.c.T, front ? 14 : 0);
            Out ms{ym, mv.s_re, mv.s_im};
            EXPECT_GT(error(ms, base).worst(), 1e-2) << "masking only v must change the result";
          }
      }
    }
}

// §"Numerical contract" 2: a = 0 exactly (log a = −inf) drops the state: outputs from the reset on equal a fresh run
// from a zero state, nothing is NaN. Resets at t = 0, inside a row block, at a chunk boundary (16) and at the end.
TEST(GatedRecurrenceStability, ZeroDecayIsACleanReset) {
  ops::Context ctx(2);
  for (bool vec : {false, true})
    for (bool cplx : {false, true}) {
      Config c;
      c.B = 1, c.T = 70, c.H = 2, c.N = 4, c.P = 3, c.vector_gate = vec, c.complex = cplx, c.seed = 31;
      Data d = make_data(c);
      const int64_t gi = c.H * (vec ? c.N : 1);
      for (int64_t t : {0, 5, 16, 37, 69})
        for (int64_t i = 0; i < gi; ++i) d.g[t * gi + i] = -kInf;
      const int64_t last = 37;  // compare the tail after the last reset but one
      Data tail = d;
      tail.c.T = c.T - last;
      auto cut = [&](const std::vector<double>& x, int64_t inner) {
        return std::vector<double>(x.begin() + last * inner, x.end());
      };
      tail.q = cut(d.q, c.G * c.N), tail.k = cut(d.k, c.G * c.N), tail.v = cut(d.v, c.H * c.P);
      tail.g = cut(d.g, gi);
      if (cplx) tail.th = cut(d.th, gi);
      std::fill(tail.s_re.begin(), tail.s_re.end(), 123.0);  // dropped by the reset at `last`
      std::fill(tail.s_im.begin(), tail.s_im.end(), -45.0);
      for (const Variant& va : kVariants)
        for (RecurrenceMode m : kAllModes)
          for (int64_t C : {7, 16, 64}) {
            const RunOpts o{va.be, va.dt, m, C, 1.0, &ctx};
            SCOPED_TRACE(describe(o) + (vec ? " vector" : " scalar") + (cplx ? " complex" : " real"));
            const Out full = run(d, o), fresh = run(tail, o);
            ASSERT_TRUE(all_finite(full));
            ASSERT_TRUE(all_finite(fresh));
            const int64_t row = c.H * c.P, n = (c.T - last) * row;
            EXPECT_LE(rel_max_error(full.y.data() + last * row, fresh.y.data(), n), tol(va.dt));
            // The state after the reset at T − 1 is exactly k_{T−1} ⊗ v_{T−1} in every mode.
            EXPECT_LE(error(Out{fresh.y, full.s_re, full.s_im}, fresh).worst(), tol(va.dt));
          }
    }
}

// §"Tests" 3: |a| ≈ 0.1 (log a ≈ −2.3), T = 4096, fp32: no Inf/NaN in any cpu mode, and the fp32 bound holds.
TEST(GatedRecurrenceStability, StrongDecayLongSequenceFp32) {
  ops::Context ctx(2);
  for (bool vec : {false, true})
    for (bool cplx : {false, true}) {
      Config c;
      c.T = 4096, c.H = 2, c.N = 8, c.P = 4, c.vector_gate = vec, c.complex = cplx, c.seed = 41;
      c.gate_mu = -2.2, c.gate_sigma = 0.1;
      const Data d = make_data(c);
      const Out ref = run(d, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent});
      for (RecurrenceMode m : kAllModes)
        for (int64_t C : {64, 256}) {
          const RunOpts o{Backend::kCpu, DType::kF32, m, C, 1.0, &ctx};
          const Out x = run(d, o);
          ASSERT_TRUE(all_finite(x)) << describe(o);
          EXPECT_LE(error(x, ref).worst(), kTolF32) << describe(o);
        }
    }
}

// log a > 0 is outside the contract and clamped to 0 by every mode and backend (|a| <= 1 always).
TEST(GatedRecurrenceStability, PositiveLogDecayIsClampedToZero) {
  ops::Context ctx(2);
  for (bool vec : {false, true}) {
    Config c;
    c.T = 30, c.vector_gate = vec, c.complex = true;
    Data d = make_data(c), z = d;
    for (size_t i = 0; i < d.g.size(); i += 3) d.g[i] = 0.7, z.g[i] = 0.0;
    const Out want = run(z, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent});
    for (const Variant& va : kVariants)
      for (RecurrenceMode m : kAllModes) {
        const RunOpts o{va.be, va.dt, m, 7, 1.0, &ctx};
        EXPECT_LE(error(run(d, o), want).worst(), tol(va.dt)) << describe(o);
      }
  }
}

}  // namespace
}  // namespace llamba::test::gr
