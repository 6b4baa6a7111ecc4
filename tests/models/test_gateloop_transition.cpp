// GateLoop transition parametrizations (models/gateloop/transition.h): the double backward against central
// differences of the double forward, for every transition, with and without the second component, over
// magnitudes from 1e-3 to 30 and every quadrant; the float backward against the double one; the z = 0 guard.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/rng.h"
#include "models/gateloop/transition.h"

namespace llamba {
namespace {

using models::gateloop::Transition;

struct Variant {
  Transition t;
  bool two, phase;  // second component present; phase output present
  const char* name;
};
constexpr Variant kVariants[] = {{Transition::kPolar, true, true, "polar complex"},
                                 {Transition::kPolar, false, true, "polar real (ablate_complex)"},
                                 {Transition::kMagPhase, true, true, "magphase"},
                                 {Transition::kReal, false, false, "real"},
                                 {Transition::kFixed, true, true, "fixed complex"},
                                 {Transition::kFixed, false, false, "fixed real"}};

// L = r1·log|a| + r2·arg a, as a function of (first, second).
double loss(const Variant& v, double first, double second, double r1, double r2) {
  double ld = 0, ph = 0;
  models::gateloop::transition_forward(v.t, first, v.two ? second : 0.0, ld, v.phase ? &ph : nullptr);
  return r1 * ld + (v.phase ? r2 * ph : 0.0);
}

TEST(GateLoopTransition, BackwardMatchesCentralDifferences) {
  core::Rng rng(7);
  for (const Variant& v : kVariants) {
    double worst = 0, worst32 = 0;
    for (int i = 0; i < 400; ++i) {
      // |z| log-uniform over [1e-3, 30], any angle (polar: every quadrant, so atan2's branches are covered;
      // points within 1e-5 of the cut at ±π are skipped, where central differences would straddle it).
      const double mag = std::exp(std::log(1e-3) + rng.uniform(0.0, 1.0) * std::log(3e4));
      const double ang = rng.uniform(-M_PI, M_PI);
      const double first = mag * std::cos(ang), second = v.two ? mag * std::sin(ang) : 0.0;
      if (v.t == Transition::kPolar && std::fabs(std::fabs(std::atan2(second, first)) - M_PI) < 1e-5) continue;
      const double r1 = rng.normal(), r2 = rng.normal();
      double df = 0, ds = 0;
      models::gateloop::transition_backward(v.t, first, second, r1, v.phase ? r2 : 0.0, df, v.two ? &ds : nullptr);
      // Central differences, h relative to the scale of the input: truncation ~h²·|f‴| (|f‴| ~ 1/|z|³ for polar
      // near 0, hence h ∝ |z|), rounding ~eps64·|L|/h.
      const double h = 1e-6 * std::max(std::hypot(first, second), 1e-3);
      const double nf = (loss(v, first + h, second, r1, r2) - loss(v, first - h, second, r1, r2)) / (2 * h);
      const double ns = v.two ? (loss(v, first, second + h, r1, r2) - loss(v, first, second - h, r1, r2)) / (2 * h)
                              : 0.0;
      const double scale = std::fabs(r1) + std::fabs(r2) / std::max(mag, 1e-300) + 1.0;
      const double err = std::max(std::fabs(df - nf), std::fabs(ds - ns)) / scale;
      worst = std::max(worst, err);
      EXPECT_LE(err, 1e-7) << v.name << " at (" << first << ", " << second << "): analytic (" << df << ", " << ds
                           << ") numeric (" << nf << ", " << ns << ")";
      // float vs double: a handful of roundings (hypot, exp, log1p, divisions) relative to the same scale.
      float df32 = 0, ds32 = 0;
      models::gateloop::transition_backward(v.t, (float)first, (float)second, (float)r1, v.phase ? (float)r2 : 0.0f,
                                            df32, v.two ? &ds32 : nullptr);
      // The float inputs are rounded too: the derivative moves by ~eps32·|z|·|∂²L| ≲ eps32·scale.
      const double err32 = std::max(std::fabs(df32 - df), std::fabs(ds32 - ds)) / scale;
      worst32 = std::max(worst32, err32);
      EXPECT_LE(err32, 32 * 1.2e-7) << v.name << " float at (" << first << ", " << second << ")";
    }
    std::printf("  %-28s worst |analytic − central diff| / scale %.2e, float vs double %.2e\n", v.name, worst,
                worst32);
  }
}

TEST(GateLoopTransition, PolarAtZeroPassesNoGradient) {
  double df = 0, ds = 0, ld = 0, ph = 0;
  models::gateloop::transition_forward(Transition::kPolar, 0.0, 0.0, ld, &ph);
  EXPECT_EQ(ld, std::log(0.5));
  EXPECT_EQ(ph, 0.0);
  models::gateloop::transition_backward(Transition::kPolar, 0.0, 0.0, 1.0, 1.0, df, &ds);
  EXPECT_EQ(df, 0.0);
  EXPECT_EQ(ds, 0.0);
}

TEST(GateLoopTransition, SaturatedMagnitudesStayFinite) {
  for (double m : {-200.0, -40.0, 40.0, 200.0}) {
    double ld = 0, df = 0;
    models::gateloop::transition_forward(Transition::kReal, m, 0.0, ld, (double*)nullptr);
    models::gateloop::transition_backward(Transition::kReal, m, 0.0, 1.0, 0.0, df, (double*)nullptr);
    EXPECT_TRUE(std::isfinite(ld) && std::isfinite(df)) << m;
    EXPECT_NEAR(df, 1.0 / (1.0 + std::exp(m)), 1e-300 + 1e-15 * df) << m;  // sigmoid(−m)
  }
}

}  // namespace
}  // namespace llamba
