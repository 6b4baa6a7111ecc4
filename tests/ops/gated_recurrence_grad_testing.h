// Test helpers for the gated_recurrence backward: random incoming gradients, running any backend / dtype /
// mode of the backward on a gr::Data problem, the scalar loss whose gradient it computes, its central-difference
// gradient through the fp64 ref forward (grad_check.h), and per-gradient error metrics.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ops/gated_recurrence_testing.h"
#include "ops/grad_check.h"

namespace llamba::test::gr {

// ∂L/∂y and ∂L/∂(final state) for L = Σ dy·y + Σ ds_re·Re s_out + Σ ds_im·Im s_out.
struct Cotangent {
  std::vector<double> dy;            // (B, T, H, P)
  std::vector<double> ds_re, ds_im;  // (B, H, P, N); empty when the final state gets no gradient
};

inline Cotangent make_cotangent(const Config& c, bool dstate_out, uint64_t seed) {
  core::Rng rng(seed);
  Cotangent g;
  g.dy = randn64(rng, c.B * c.T * c.H * c.P);
  if (dstate_out) {
    g.ds_re = randn64(rng, c.B * c.H * c.P * c.N);
    if (c.complex) g.ds_im = randn64(rng, c.B * c.H * c.P * c.N);
  }
  return g;
}

// The gradients, in the layouts of their inputs.
struct Grads {
  std::vector<double> q, k;        // (B, T, G, N)
  std::vector<double> v;           // (B, T, H, P)
  std::vector<double> g, th;       // shape of log_decay; th empty for real gates
  std::vector<double> s_re, s_im;  // (B, H, P, N); s_im empty for real gates
};

// The tensors of one backward call in one dtype: inputs from `d`, incoming gradients from `ct`, every output
// zeroed and wired into `args` (complex-only ones only for complex gates). Tests may unwire or prefill outputs.
struct BwdCall {
  Tensor q, k, v, g, th, si, sii, dy, dso, dsoi;  // inputs
  Tensor dq, dk, dv, dg, dth, dsi, dsii;          // outputs
  ops::GatedRecurrenceBackwardArgs args;

  BwdCall(const Data& d, const Cotangent& ct, DType dt, double scale = 1.0, int64_t chunk = 64) {
    const Config& c = d.c;
    const Shape sqk{c.B, c.T, c.G, c.N}, sv{c.B, c.T, c.H, c.P}, ss{c.B, c.H, c.P, c.N};
    const Shape sg = c.vector_gate ? Shape{c.B, c.T, c.H, c.N} : Shape{c.B, c.T, c.H};
    q = to_tensor(d.q, sqk, dt), k = to_tensor(d.k, sqk, dt), v = to_tensor(d.v, sv, dt);
    g = to_tensor(d.g, sg, dt), dy = to_tensor(ct.dy, sv, dt);
    dq = Tensor::zeros(dt, sqk), dk = Tensor::zeros(dt, sqk), dv = Tensor::zeros(dt, sv);
    dg = Tensor::zeros(dt, sg), dth = Tensor::zeros(dt, sg), dsi = Tensor::zeros(dt, ss), dsii = Tensor::zeros(dt, ss);
    auto& a = args;
    a.q = q, a.k = k, a.v = v, a.log_decay = g, a.dy = dy;
    a.dq = dq, a.dk = dk, a.dv = dv, a.dlog_decay = dg, a.dstate_in = dsi;
    if (c.complex) {
      th = to_tensor(d.th, sg, dt);
      a.phase = th, a.dphase = dth, a.dstate_in_im = dsii;
    }
    if (!d.s_re.empty()) {
      si = to_tensor(d.s_re, ss, dt);
      a.state_in = si;
      if (!d.s_im.empty()) sii = to_tensor(d.s_im, ss, dt), a.state_in_im = sii;
    }
    if (!ct.ds_re.empty()) {
      dso = to_tensor(ct.ds_re, ss, dt);
      a.dstate_out = dso;
      if (!ct.ds_im.empty()) dsoi = to_tensor(ct.ds_im, ss, dt), a.dstate_out_im = dsoi;
    }
    a.scale = scale;
    a.chunk = chunk;
  }

  void run(const RunOpts& o) const {
    if (o.backend == Backend::kRef) {
      ops::ref::gated_recurrence_backward(args);
    } else {
      ops::Context local(2);
      ops::gated_recurrence_backward(o.ctx ? *o.ctx : local, args, o.mode);
    }
  }

  Grads grads(bool complex) const {
    Grads r;
    r.q = from_tensor(dq), r.k = from_tensor(dk), r.v = from_tensor(dv), r.g = from_tensor(dg);
    r.s_re = from_tensor(dsi);
    if (complex) r.th = from_tensor(dth), r.s_im = from_tensor(dsii);
    return r;
  }
};

// Runs the backward with zeroed outputs (every one requested) and returns them.
inline Grads run_backward(const Data& d, const Cotangent& ct, const RunOpts& o) {
  const BwdCall call(d, ct, o.dtype, o.scale, o.chunk);
  call.run(o);
  return call.grads(d.c.complex);
}

// L(d) through the fp64 ref recurrent forward.
inline double loss(const Data& d, const Cotangent& ct, double scale) {
  const Out o = run(d, {Backend::kRef, DType::kF64, RecurrenceMode::kRecurrent, 64, scale});
  double L = 0;
  for (size_t i = 0; i < o.y.size(); ++i) L += ct.dy[i] * o.y[i];
  for (size_t i = 0; i < ct.ds_re.size(); ++i) L += ct.ds_re[i] * o.s_re[i];
  for (size_t i = 0; i < ct.ds_im.size(); ++i) L += ct.ds_im[i] * o.s_im[i];
  return L;
}

// Central differences of `loss` w.r.t. every input of `d` (grad_check.h's central_diff_grad: h_i =
// h·max(1, |x_i|), truncation ~h²·|L'''|, rounding ~eps64·|L|/h ≈ 1e-10·|L|). Inputs equal to −inf (a = 0)
// have no two-sided neighbourhood: their entry is NaN (not compared).
inline Grads numeric_grads(const Data& d0, const Cotangent& ct, double scale, double h = 1e-6) {
  Data d = d0;
  auto diff = [&](std::vector<double>& x) {
    const std::vector<double> x0 = x;
    std::vector<double> g = central_diff_grad(
        x0,
        [&](const std::vector<double>& xp) {
          x = xp;
          return loss(d, ct, scale);
        },
        h);
    x = x0;
    for (size_t i = 0; i < x.size(); ++i)
      if (std::isinf(x[i])) g[i] = NAN;
    return g;
  };
  Grads r;
  r.q = diff(d.q), r.k = diff(d.k), r.v = diff(d.v), r.g = diff(d.g);
  if (d.c.complex) r.th = diff(d.th);
  if (d.s_re.empty()) {  // the gradient w.r.t. an absent (zero) initial state: perturb explicit zeros
    d.s_re.assign(d.c.B * d.c.H * d.c.P * d.c.N, 0.0);
    if (d.c.complex) d.s_im.assign(d.s_re.size(), 0.0);
  }
  r.s_re = diff(d.s_re);
  if (d.c.complex) {
    if (d.s_im.empty()) d.s_im.assign(d.s_re.size(), 0.0);
    r.s_im = diff(d.s_im);
  }
  return r;
}

// max|x − r| / max|r| over the finite entries of r (NaN in r marks an entry not to compare); NaN in x counts
// as infinite error. A reference that is all zeros compares absolutely.
inline double rel_err(const std::vector<double>& x, const std::vector<double>& r) {
  double m = 0, s = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    if (std::isnan(r[i])) continue;
    const double e = std::fabs(x[i] - r[i]);
    m = std::isnan(e) ? INFINITY : std::max(m, e);
    s = std::max(s, std::fabs(r[i]));
  }
  return m / (s > 0 ? s : 1.0);
}

struct GradErr {
  double q = 0, k = 0, v = 0, g = 0, th = 0, s_re = 0, s_im = 0;
  double worst() const { return std::max({q, k, v, g, th, s_re, s_im}); }
  std::string str() const {
    char buf[200];
    std::snprintf(buf, sizeof buf, "dq %.2e dk %.2e dv %.2e dg %.2e dth %.2e ds %.2e ds_im %.2e", q, k, v, g, th, s_re,
                  s_im);
    return buf;
  }
};

// Per gradient, relative to its own max|ref|.
inline GradErr grad_error(const Grads& x, const Grads& r) {
  GradErr e;
  e.q = rel_err(x.q, r.q), e.k = rel_err(x.k, r.k), e.v = rel_err(x.v, r.v), e.g = rel_err(x.g, r.g);
  e.th = rel_err(x.th, r.th), e.s_re = rel_err(x.s_re, r.s_re), e.s_im = rel_err(x.s_im, r.s_im);
  return e;
}

inline bool verbose() { return std::getenv("GR_VERBOSE") != nullptr; }

}  // namespace llamba::test::gr
