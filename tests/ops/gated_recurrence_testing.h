// Test helpers for gated_recurrence: random problems in physical ranges (fp64 master copies), running any
// backend / dtype / mode on them, and the tolerances with their derivation.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "ops/context.h"
#include "ops/gated_recurrence.h"
#include "test_util.h"

namespace llamba::test::gr {

using core::DType;
using core::Shape;
using core::Tensor;
using core::TensorView;
using ops::RecurrenceMode;

// fp64 modes agree to a few ulp times the reduction depth (observed <= 1e-14); 1e-12 relative to max|ref|
// is the bound and leaves room for T up to 16,384.
constexpr double kTolF64 = 1e-12;
// fp32 vs the fp64 oracle: per-step rounding ~eps·(N + log T) on O(1) terms, times the number of steps that
// still weigh on a state (the decay horizon, ~1/(1 − |a|) <= 100 in these ranges): ~1e-6 expected
// (docs/recurrence.md §"Tests" 2: 1e-7 … 7e-6 measured); 1e-5 relative to max|ref| is the bound.
constexpr double kTolF32 = 1e-5;

constexpr RecurrenceMode kAllModes[] = {RecurrenceMode::kRecurrent, RecurrenceMode::kScan,
                                        RecurrenceMode::kQuadratic, RecurrenceMode::kChunked};

struct Config {
  int64_t B = 1, T = 40, H = 2, G = 1, N = 8, P = 5;
  bool vector_gate = false, complex = false, state_in = true;
  // log|a| = −softplus(−m), m ~ N(gate_mu, gate_sigma): |a| = sigmoid(m). gate_mu 0 → |a| ≈ 0.5,
  // +5 → 0.993 (weak decay), −2 → 0.12 (strong decay).
  double gate_mu = 0.0, gate_sigma = 1.0;
  double theta_mu = 0.0, theta_sigma = 1.0;  // phase θ ~ N(theta_mu, theta_sigma)
  uint64_t seed = 1;
};

// fp64 master copies, contiguous, in the op's layouts.
struct Data {
  Config c;
  std::vector<double> q, k;  // (B, T, G, N)
  std::vector<double> v;     // (B, T, H, P)
  std::vector<double> g, th; // (B, T, H) or (B, T, H, N)
  std::vector<double> s_re, s_im;  // (B, H, P, N); empty when no initial state
  int64_t gate_numel() const { return c.B * c.T * c.H * (c.vector_gate ? c.N : 1); }
};

inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }

inline Data make_data(const Config& c) {
  core::Rng rng(c.seed);
  Data d;
  d.c = c;
  const int64_t nqk = c.B * c.T * c.G * c.N, nv = c.B * c.T * c.H * c.P, ns = c.B * c.H * c.P * c.N;
  d.q = randn64(rng, nqk, 1.0 / std::sqrt((double)c.N));
  d.k = randn64(rng, nqk);
  d.v = randn64(rng, nv);
  d.g.resize(d.gate_numel());
  for (auto& x : d.g) x = -softplus(-(c.gate_mu + c.gate_sigma * rng.normal()));
  if (c.complex) {
    d.th.resize(d.gate_numel());
    for (auto& x : d.th) x = c.theta_mu + c.theta_sigma * rng.normal();
  }
  if (c.state_in) {
    d.s_re = randn64(rng, ns);
    if (c.complex) d.s_im = randn64(rng, ns);
  }
  return d;
}

struct Out {
  std::vector<double> y;           // (B, T, H, P)
  std::vector<double> s_re, s_im;  // (B, H, P, N)
};

inline Tensor to_tensor(const std::vector<double>& x, const Shape& s, DType dt) {
  Tensor t = Tensor::zeros(dt, s);
  for (int64_t i = 0; i < (int64_t)x.size(); ++i) {
    if (dt == DType::kF64) {
      t.f64()[i] = x[i];
    } else {
      t.f32()[i] = (float)x[i];
    }
  }
  return t;
}

inline std::vector<double> from_tensor(const Tensor& t) {
  std::vector<double> r(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) r[i] = t.dtype() == DType::kF64 ? t.f64()[i] : (double)t.f32()[i];
  return r;
}

enum class Backend { kRef, kCpu };

struct RunOpts {
  Backend backend = Backend::kRef;
  DType dtype = DType::kF64;
  RecurrenceMode mode = RecurrenceMode::kRecurrent;
  int64_t chunk = 64;
  double scale = 1.0;
  ops::Context* ctx = nullptr;  // cpu backend
};

inline Out run(const Data& d, const RunOpts& o) {
  const Config& c = d.c;
  const Shape sqk{c.B, c.T, c.G, c.N}, sv{c.B, c.T, c.H, c.P}, ss{c.B, c.H, c.P, c.N};
  const Shape sg = c.vector_gate ? Shape{c.B, c.T, c.H, c.N} : Shape{c.B, c.T, c.H};
  Tensor q = to_tensor(d.q, sqk, o.dtype), k = to_tensor(d.k, sqk, o.dtype), v = to_tensor(d.v, sv, o.dtype);
  Tensor g = to_tensor(d.g, sg, o.dtype), y = Tensor::zeros(o.dtype, sv);
  Tensor th, si, sii, so = Tensor::zeros(o.dtype, ss), soi = Tensor::zeros(o.dtype, ss);
  ops::GatedRecurrenceArgs a;
  a.q = q, a.k = k, a.v = v, a.log_decay = g, a.y = y, a.state_out = so;
  if (c.complex) {
    th = to_tensor(d.th, sg, o.dtype);
    a.phase = th;
    a.state_out_im = soi;
  }
  if (!d.s_re.empty()) {
    si = to_tensor(d.s_re, ss, o.dtype);
    a.state_in = si;
    if (!d.s_im.empty()) {
      sii = to_tensor(d.s_im, ss, o.dtype);
      a.state_in_im = sii;
    }
  }
  a.scale = o.scale;
  a.chunk = o.chunk;
  if (o.backend == Backend::kRef) {
    ops::ref::gated_recurrence_forward(a, o.mode);
  } else {
    ops::Context local(2);
    ops::gated_recurrence_forward(o.ctx ? *o.ctx : local, a, o.mode);
  }
  Out r;
  r.y = from_tensor(y);
  r.s_re = from_tensor(so);
  if (c.complex) r.s_im = from_tensor(soi);
  return r;
}

// Worst of the scale-free errors max|x − r| / max|r|: y, and the complex state as one (Re and Im parts both
// relative to the largest |Re| or |Im| of the reference state, so a state that is real up to rounding compares
// its Im noise against the state's scale, not against the noise).
struct Err {
  double y = 0, s_re = 0, s_im = 0;
  double worst() const { return std::max({y, s_re, s_im}); }
};

inline double max_abs_diff(const std::vector<double>& x, const std::vector<double>& r) {
  double m = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const double d = std::fabs(x[i] - r[i]);
    m = std::isnan(d) ? INFINITY : std::max(m, d);
  }
  return m;
}

inline Err error(const Out& x, const Out& r) {
  Err e;
  e.y = rel_max_error(x.y.data(), r.y.data(), (int64_t)r.y.size());
  double scale = 0;
  for (const auto* v : {&r.s_re, &r.s_im})
    for (double a : *v) scale = std::max(scale, std::fabs(a));
  if (scale == 0) scale = 1;
  e.s_re = max_abs_diff(x.s_re, r.s_re) / scale;
  if (!r.s_im.empty()) e.s_im = max_abs_diff(x.s_im, r.s_im) / scale;
  return e;
}

inline bool all_finite(const Out& o) {
  for (const auto* v : {&o.y, &o.s_re, &o.s_im})
    for (double x : *v)
      if (!std::isfinite(x)) return false;
  return true;
}

inline std::string describe(const Config& c) {
  return "B=" + std::to_string(c.B) + " T=" + std::to_string(c.T) + " H=" + std::to_string(c.H) +
         " G=" + std::to_string(c.G) + " N=" + std::to_string(c.N) + " P=" + std::to_string(c.P) +
         (c.vector_gate ? " vector" : " scalar") + (c.complex ? " complex" : " real") +
         " gate_mu=" + std::to_string(c.gate_mu) + " theta_mu=" + std::to_string(c.theta_mu);
}

inline std::string describe(const RunOpts& o) {
  return std::string(o.backend == Backend::kRef ? "ref " : "cpu ") + std::string(core::dtype_name(o.dtype)) + " " +
         ops::recurrence_mode_name(o.mode) +
         (o.mode == RecurrenceMode::kChunked ? " chunk=" + std::to_string(o.chunk) : std::string());
}

}  // namespace llamba::test::gr
