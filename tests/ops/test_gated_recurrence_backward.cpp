// gated_recurrence backward, the fp64 oracle against numerical gradients (docs/recurrence.md §"Tests" 8,
// docs/testing.md §"Test kinds" 2): ref::gated_recurrence_backward vs central differences of
// ref::gated_recurrence_forward (kRecurrent) for every input (q, k, v, log_decay, phase, state_in, state_in_im) with
// dy and d(state_out) both flowing, over gate kinds, grouped heads, P != N, T = 1, strong / weak decays, large
// phases, a = 0 resets and clamped gates. GR_VERBOSE=1 prints every error.
//
// Why central differences and not the complex step: the forward already computes in complex arithmetic (the
// gates a = exp(g + iθ) and the state are complex, and y = Re(q·h)), so a complex-step perturbation would
// need a second, independent imaginary unit (bicomplex numbers) to stay analytic; Re(·) itself is not
// analytic. Central differences with h = 1e-6·max(1, |x|) have truncation error ~h²·|L'''| ≈ 1e-12 and rounding
// ~eps64·|L|/h ≈ 2e-10·|L|; observed 1e-10 … 6e-8 relative to max|g| (the largest for strong decays, where
// max|g| is small against |L|), so the bound 1e-6 keeps a 15× margin.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "ops/gated_recurrence_grad_testing.h"

namespace llamba::test::gr {
namespace {

// docs/recurrence.md §"Tests" 8: 1e-6 relative (to max|numeric gradient| of each input).
constexpr double kTolNumeric = 1e-6;

struct GateCase {
  bool vec, cplx;
};
constexpr GateCase kGates[] = {{false, false}, {true, false}, {false, true}, {true, true}};

// The analytic gradient at an input the numerical one skips (NaN: a = 0) must be exactly zero.
void expect_zero_where_skipped(const std::vector<double>& a, const std::vector<double>& n, const char* what) {
  for (size_t i = 0; i < n.size(); ++i)
    if (std::isnan(n[i])) {
      EXPECT_EQ(a[i], 0.0) << what << " at " << i << " (a = 0 there)";
    }
}

double worst_seen = 0;  // over the whole file, printed at the end so the margin shows in the test log

class LogWorst : public ::testing::Environment {
  void TearDown() override {
    std::printf("  worst ref-vs-numeric error: %.2e (bound %.0e)\n", worst_seen, kTolNumeric);
  }
};
const auto* const kLogWorst = ::testing::AddGlobalTestEnvironment(new LogWorst);

// Analytic (ref) vs numerical gradients of L = Σ dy·y + Σ dstate_out·state_out.
void check_numeric(const Data& d, const Cotangent& ct, double scale) {
  const Grads a = run_backward(d, ct, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent, 64, scale});
  const Grads n = numeric_grads(d, ct, scale);
  const GradErr e = grad_error(a, n);
  worst_seen = std::max(worst_seen, e.worst());
  if (verbose()) std::printf("  %-80s %s\n", describe(d.c).c_str(), e.str().c_str());
  EXPECT_LE(e.q, kTolNumeric) << describe(d.c);
  EXPECT_LE(e.k, kTolNumeric) << describe(d.c);
  EXPECT_LE(e.v, kTolNumeric) << describe(d.c);
  EXPECT_LE(e.g, kTolNumeric) << describe(d.c);
  EXPECT_LE(e.th, kTolNumeric) << describe(d.c);
  EXPECT_LE(e.s_re, kTolNumeric) << describe(d.c);
  EXPECT_LE(e.s_im, kTolNumeric) << describe(d.c);
  expect_zero_where_skipped(a.g, n.g, "dlog_decay");
  expect_zero_where_skipped(a.th, n.th, "dphase");
}

Config small(const GateCase& gc, uint64_t seed) {
  Config c;
  c.B = 2, c.T = 13, c.H = 4, c.G = 2, c.N = 3, c.P = 2;  // grouped heads, P != N, batch > 1
  c.vector_gate = gc.vec, c.complex = gc.cplx, c.seed = seed;
  return c;
}

TEST(GatedRecurrenceBackward, RefMatchesNumericAllGateKinds) {
  for (const GateCase& gc : kGates) {
    const Config c = small(gc, 21);
    check_numeric(make_data(c), make_cotangent(c, /*dstate_out=*/true, 5), 0.7);
  }
}

// The sizes: T = 50, K = N = 4, V = P = 3, in the three decay regimes of the forward tests.
TEST(GatedRecurrenceBackward, RefMatchesNumericDecayRegimes) {
  struct Regime {
    double gate_mu, gate_sigma, theta_mu, theta_sigma;
  };
  const Regime regimes[] = {{0.0, 1.0, 0.0, 1.0},   // |a| ≈ 0.5
                            {-4.0, 1.0, 0.0, 1.0},  // strong: |a| ≈ 0.02
                            {6.0, 0.5, 0.0, 0.3},   // weak: |a| ≈ 0.998
                            {5.0, 0.1, 3.0, 0.1}};  // large accumulated phase (Θ_T ≈ 150)
  for (const Regime& r : regimes) {
    for (const GateCase& gc : kGates) {
      Config c;
      c.B = 1, c.T = 50, c.H = 1, c.G = 1, c.N = 4, c.P = 3, c.vector_gate = gc.vec, c.complex = gc.cplx;
      c.gate_mu = r.gate_mu, c.gate_sigma = r.gate_sigma, c.theta_mu = r.theta_mu, c.theta_sigma = r.theta_sigma;
      c.seed = 8;
      check_numeric(make_data(c), make_cotangent(c, true, 6), 1.0);
    }
  }
}

// T = 1; no initial state (its gradient is still produced: the state is zero, not absent from L); no
// gradient into the final state.
TEST(GatedRecurrenceBackward, RefMatchesNumericEdgeShapes) {
  for (const GateCase& gc : kGates) {
    Config c = small(gc, 4);
    c.T = 1;
    check_numeric(make_data(c), make_cotangent(c, true, 1), 1.0);
    c.T = 7, c.state_in = false;
    check_numeric(make_data(c), make_cotangent(c, false, 2), 0.5);
    c.N = 1, c.P = 1, c.H = 1, c.G = 1;
    check_numeric(make_data(c), make_cotangent(c, true, 3), 1.0);
  }
}

// a = 0 exactly (log_decay = −inf) resets the state: zero gate gradient there (not NaN), and the other
// gradients still match. For vector gates only some channels reset. Clamped gates (log_decay > 0, treated as
// 0 by the forward) get zero dlog_decay (the numerical one is zero too: both sides clamp) but a dphase.
TEST(GatedRecurrenceBackward, RefMatchesNumericResetsAndClamp) {
  for (const GateCase& gc : kGates) {
    const Config c = small(gc, 13);
    Data d = make_data(c);
    const int64_t ng = c.vector_gate ? c.N : 1;
    for (int64_t i = 0; i < (int64_t)d.g.size(); ++i) {
      if (i % 7 == 3) d.g[i] = -INFINITY;
      if (i % 11 == 5) d.g[i] = 0.25;
    }
    d.g[(c.T - 1) * c.H * ng] = -INFINITY;  // batch 0, the last step, head 0: reset right at the end
    const Cotangent ct = make_cotangent(c, true, 9);
    check_numeric(d, ct, 1.0);
    const Grads a = run_backward(d, ct, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent, 64, 1.0});
    for (size_t i = 0; i < d.g.size(); ++i) {
      if (d.g[i] > 0) {
        EXPECT_EQ(a.g[i], 0.0) << "clamped gate " << i;
      }
    }
  }
}

}  // namespace
}  // namespace llamba::test::gr
