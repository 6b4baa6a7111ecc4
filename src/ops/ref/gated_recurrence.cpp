// fp64 oracle for gated_recurrence: every mode written as plain loops over one (batch, head) at a time, in
// std::complex<double>, each mode independent of the others. Speed is not a goal; memory of kScan is O(T·P·N).
// The backward is the reverse-time loop over all stored states; like every backward it ACCUMULATES (+=) into
// its gradient outputs, callers zero them.
#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "ops/gated_recurrence.h"
#include "ops/gated_recurrence_impl.h"

namespace llamba::ops::ref {
namespace {

using cd = std::complex<double>;
using detail::gr_wanted;

// a = exp(re + i·im) without relying on Annex G corner cases: re = −inf gives exactly 0.
cd cexp(double re, double im) {
  const double e = std::exp(re);
  return {e * std::cos(im), e * std::sin(im)};
}

// One (b, h) problem, gathered into contiguous fp64 arrays.
struct Head {
  int64_t T = 0, N = 0, P = 0;
  std::vector<double> q, k;  // (T, N)
  std::vector<double> v;     // (T, P)
  std::vector<double> g;     // (T, N) Re log a, clamped <= 0 (scalar gates broadcast over N)
  std::vector<double> th;    // (T, N) Im log a (zeros for real gates)
  std::vector<cd> s0;        // (P, N) initial state
  std::vector<double> y;     // (T, P) output, before `scale`
  std::vector<cd> sT;        // (P, N) final state
};

double load(const core::TensorView& v, std::initializer_list<int64_t> idx) {
  int64_t off = 0, j = 0;
  for (int64_t i : idx) off += i * v.strides[j++];
  return v.dtype == core::DType::kF64 ? v.as<double>()[off] : (double)v.as<float>()[off];
}

void store(const core::TensorView& v, std::initializer_list<int64_t> idx, double x) {
  int64_t off = 0, j = 0;
  for (int64_t i : idx) off += i * v.strides[j++];
  if (v.dtype == core::DType::kF64) {
    v.as<double>()[off] = x;
  } else {
    v.as<float>()[off] = (float)x;
  }
}

Head gather(const GatedRecurrenceArgs& a, const detail::GrDims& d, int64_t b, int64_t h) {
  Head x;
  x.T = d.T, x.N = d.N, x.P = d.P;
  const int64_t grp = h / d.heads_per_group();
  x.q.resize(d.T * d.N), x.k.resize(d.T * d.N), x.g.resize(d.T * d.N), x.th.assign(d.T * d.N, 0.0);
  x.v.resize(d.T * d.P);
  for (int64_t t = 0; t < d.T; ++t) {
    for (int64_t n = 0; n < d.N; ++n) {
      x.q[t * d.N + n] = load(a.q, {b, t, grp, n});
      x.k[t * d.N + n] = load(a.k, {b, t, grp, n});
      const double g = d.vector_gate ? load(a.log_decay, {b, t, h, n}) : load(a.log_decay, {b, t, h});
      x.g[t * d.N + n] = std::min(g, 0.0);
      if (d.complex) x.th[t * d.N + n] = d.vector_gate ? load(a.phase, {b, t, h, n}) : load(a.phase, {b, t, h});
    }
    for (int64_t p = 0; p < d.P; ++p) x.v[t * d.P + p] = load(a.v, {b, t, h, p});
  }
  x.s0.assign(d.P * d.N, 0.0);
  for (int64_t p = 0; p < d.P; ++p) {
    for (int64_t n = 0; n < d.N; ++n) {
      const double re = d.has_state_in ? load(a.state_in, {b, h, p, n}) : 0.0;
      const double im = d.has_state_in_im ? load(a.state_in_im, {b, h, p, n}) : 0.0;
      x.s0[p * d.N + n] = {re, im};
    }
  }
  x.y.assign(d.T * d.P, 0.0);
  x.sT = x.s0;
  return x;
}

void scatter(const GatedRecurrenceArgs& a, const detail::GrDims& d, int64_t b, int64_t h, const Head& x) {
  for (int64_t t = 0; t < d.T; ++t)
    for (int64_t p = 0; p < d.P; ++p) store(a.y, {b, t, h, p}, a.scale * x.y[t * d.P + p]);
  for (int64_t p = 0; p < d.P; ++p) {
    for (int64_t n = 0; n < d.N; ++n) {
      if (d.has_state_out) store(a.state_out, {b, h, p, n}, x.sT[p * d.N + n].real());
      if (d.has_state_out_im) store(a.state_out_im, {b, h, p, n}, x.sT[p * d.N + n].imag());
    }
  }
}

// h_t = a_t ⊙ h_{t−1} + v_tᵀ k_t;  y_t = q_t · Re(h_t).
void run_recurrent(Head& x) {
  const int64_t N = x.N, P = x.P;
  std::vector<cd> S = x.s0, a(N);
  for (int64_t t = 0; t < x.T; ++t) {
    for (int64_t n = 0; n < N; ++n) a[n] = cexp(x.g[t * N + n], x.th[t * N + n]);
    for (int64_t p = 0; p < P; ++p) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) {
        cd& s = S[p * N + n];
        s = a[n] * s + x.v[t * P + p] * x.k[t * N + n];
        acc += x.q[t * N + n] * s.real();
      }
      x.y[t * P + p] = acc;
    }
  }
  x.sT = S;
}

// Inclusive Hillis–Steele scan over e_0 = (1, h_{−1}), e_{t+1} = (a_t, v_tᵀ k_t) with
// (a_i, s_i)•(a_j, s_j) = (a_j a_i, a_j ⊙ s_i + s_j); the prefix e_0•…•e_{t+1} holds h_t.
void run_scan(Head& x) {
  const int64_t N = x.N, P = x.P, n_el = x.T + 1, PN = P * N;
  std::vector<cd> A(n_el * N), S(n_el * PN);
  for (int64_t n = 0; n < N; ++n) A[n] = 1.0;
  for (int64_t i = 0; i < PN; ++i) S[i] = x.s0[i];
  for (int64_t t = 0; t < x.T; ++t) {
    for (int64_t n = 0; n < N; ++n) A[(t + 1) * N + n] = cexp(x.g[t * N + n], x.th[t * N + n]);
    for (int64_t p = 0; p < P; ++p)
      for (int64_t n = 0; n < N; ++n) S[(t + 1) * PN + p * N + n] = x.v[t * P + p] * x.k[t * N + n];
  }
  for (int64_t d = 1; d < n_el; d *= 2) {
    for (int64_t j = n_el - 1; j >= d; --j) {  // descending: element j − d still holds the previous level
      const int64_t i = j - d;
      for (int64_t p = 0; p < P; ++p)
        for (int64_t n = 0; n < N; ++n) S[j * PN + p * N + n] = A[j * N + n] * S[i * PN + p * N + n] + S[j * PN + p * N + n];
      for (int64_t n = 0; n < N; ++n) A[j * N + n] = A[j * N + n] * A[i * N + n];
    }
  }
  for (int64_t t = 0; t < x.T; ++t) {
    for (int64_t p = 0; p < P; ++p) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) acc += x.q[t * N + n] * S[(t + 1) * PN + p * N + n].real();
      x.y[t * P + p] = acc;
    }
  }
  for (int64_t i = 0; i < PN; ++i) x.sT[i] = S[x.T * PN + i];
}

// Surrogate attention: y_t = Re Σ_{s<=t} Σ_n q_tn k_sn exp(Σ_{j=s+1..t} log a_jn) v_s + initial-state term.
// The segment sums run backwards from s = t (Mamba's segsum), so no cumulative product is ever divided.
void run_quadratic(Head& x) {
  const int64_t N = x.N, P = x.P;
  std::vector<double> seg_re(N), seg_im(N);
  for (int64_t t = 0; t < x.T; ++t) {
    std::fill(seg_re.begin(), seg_re.end(), 0.0);
    std::fill(seg_im.begin(), seg_im.end(), 0.0);
    double* y = x.y.data() + t * P;
    for (int64_t s = t; s >= 0; --s) {
      double w = 0;
      for (int64_t n = 0; n < N; ++n)
        w += x.q[t * N + n] * x.k[s * N + n] * cexp(seg_re[n], seg_im[n]).real();
      for (int64_t p = 0; p < P; ++p) y[p] += w * x.v[s * P + p];
      for (int64_t n = 0; n < N; ++n) seg_re[n] += x.g[s * N + n], seg_im[n] += x.th[s * N + n];
    }
    for (int64_t p = 0; p < P; ++p)  // now seg = Σ_{j=0..t} log a_j
      for (int64_t n = 0; n < N; ++n)
        y[p] += x.q[t * N + n] * (cexp(seg_re[n], seg_im[n]) * x.s0[p * N + n]).real();
  }
  // Final state: h_{T−1} = Σ_s diag(Π_{j=s+1..T−1} a_j) v_sᵀ k_s + diag(Π_j a_j) h_{−1}.
  std::fill(seg_re.begin(), seg_re.end(), 0.0);
  std::fill(seg_im.begin(), seg_im.end(), 0.0);
  std::vector<cd> F(P * N, 0.0);
  for (int64_t s = x.T - 1; s >= 0; --s) {
    for (int64_t p = 0; p < P; ++p)
      for (int64_t n = 0; n < N; ++n)
        F[p * N + n] += cexp(seg_re[n], seg_im[n]) * (x.k[s * N + n] * x.v[s * P + p]);
    for (int64_t n = 0; n < N; ++n) seg_re[n] += x.g[s * N + n], seg_im[n] += x.th[s * N + n];
  }
  for (int64_t p = 0; p < P; ++p)
    for (int64_t n = 0; n < N; ++n) F[p * N + n] += cexp(seg_re[n], seg_im[n]) * x.s0[p * N + n];
  x.sT = F;
}

// Chunked form (docs/recurrence.md §"Chunked"), complex state, chunk-local sums only:
//   intra  y_l += Re Σ_{m<=l} Σ_n q_ln k_mn exp(seg_lmn) v_m,  seg_lm = Σ_{j=m+1..l} log a_j  (running over l)
//   inter  y_l += Re q_l · (exp(Gf_l) ⊙ S_in),                Gf_l = Σ_{j=c0..l} log a_j   (forward)
//   state  S_out = exp(Gf_last) ⊙ S_in + Σ_m exp(Gb_m) ⊙ v_mᵀ k_m,  Gb_m = Σ_{j=m+1..c1−1} log a_j  (backward)
void run_chunked(Head& x, int64_t chunk) {
  const int64_t N = x.N, P = x.P;
  std::vector<cd> S = x.s0, S_next(P * N), seg(N);
  auto la = [&](int64_t t, int64_t n) { return cd(x.g[t * N + n], x.th[t * N + n]); };
  for (int64_t c0 = 0; c0 < x.T; c0 += chunk) {
    const int64_t c1 = std::min(x.T, c0 + chunk), C = c1 - c0;
    for (int64_t m = c0; m < c1; ++m) {  // column m of the intra-chunk mask, walking down the rows l >= m
      std::fill(seg.begin(), seg.end(), cd(0.0));
      for (int64_t l = m; l < c1; ++l) {
        if (l > m)
          for (int64_t n = 0; n < N; ++n) seg[n] += la(l, n);
        double w = 0;
        for (int64_t n = 0; n < N; ++n) w += x.q[l * N + n] * x.k[m * N + n] * cexp(seg[n].real(), seg[n].imag()).real();
        for (int64_t p = 0; p < P; ++p) x.y[l * P + p] += w * x.v[m * P + p];
      }
    }
    std::vector<cd> Gf(C * N), Gb(C * N, cd(0.0));
    for (int64_t l = 0; l < C; ++l)
      for (int64_t n = 0; n < N; ++n) Gf[l * N + n] = (l > 0 ? Gf[(l - 1) * N + n] : cd(0.0)) + la(c0 + l, n);
    for (int64_t m = C - 2; m >= 0; --m)
      for (int64_t n = 0; n < N; ++n) Gb[m * N + n] = Gb[(m + 1) * N + n] + la(c0 + m + 1, n);
    for (int64_t l = 0; l < C; ++l) {
      const int64_t t = c0 + l;
      for (int64_t p = 0; p < P; ++p)
        for (int64_t n = 0; n < N; ++n) {
          const cd e = Gf[l * N + n];
          x.y[t * P + p] += x.q[t * N + n] * (cexp(e.real(), e.imag()) * S[p * N + n]).real();
        }
    }
    for (int64_t p = 0; p < P; ++p)
      for (int64_t n = 0; n < N; ++n) {
        const cd e = Gf[(C - 1) * N + n];
        cd acc = cexp(e.real(), e.imag()) * S[p * N + n];
        for (int64_t m = 0; m < C; ++m) {
          const cd w = Gb[m * N + n];
          acc += cexp(w.real(), w.imag()) * (x.k[(c0 + m) * N + n] * x.v[(c0 + m) * P + p]);
        }
        S_next[p * N + n] = acc;
      }
    S.swap(S_next);
  }
  x.sT = S;
}

void add_to(const core::TensorView& v, std::initializer_list<int64_t> idx, double x) {
  store(v, idx, load(v, idx) + x);
}

// Backward of one (b, h) by the reverse-time loop (docs/recurrence.md §"Gradients"), with G = g_{h_t}
// (PyTorch convention):
//   G += scale · dy_tᵀ q_t;   dq_t += scale · Σ_p dy_tp Re h_t;   dk_t += Σ_p v_tp Re G;   dv_t += Σ_n k_tn Re G
//   g_{log a_t} = Σ_p conj(a_t h_{t−1}) ⊙ G   (= conj(a)·g_a; exactly 0 when a = 0);   G ← conj(a_t) ⊙ G.
// dq, dk (T, N) are returned for the caller to sum over the group; everything else is accumulated here.
void backward_head(const GatedRecurrenceBackwardArgs& a, const detail::GrDims& d, int64_t b, int64_t h,
                   std::vector<double>& dq, std::vector<double>& dk) {
  const Head x = gather(detail::gr_backward_as_forward(a), d, b, h);
  const int64_t T = d.T, N = d.N, P = d.P, PN = P * N;
  std::vector<cd> A(T * N), S((T + 1) * PN);  // S block t + 1 holds h_t; block 0 holds h_{−1}
  std::copy(x.s0.begin(), x.s0.end(), S.begin());
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t n = 0; n < N; ++n) A[t * N + n] = cexp(x.g[t * N + n], x.th[t * N + n]);
    for (int64_t p = 0; p < P; ++p)
      for (int64_t n = 0; n < N; ++n)
        S[(t + 1) * PN + p * N + n] = A[t * N + n] * S[t * PN + p * N + n] + x.v[t * P + p] * x.k[t * N + n];
  }
  std::vector<cd> G(PN, 0.0), dla(N);
  for (int64_t p = 0; p < P; ++p)
    for (int64_t n = 0; n < N; ++n) {
      const double re = d.has_state_out ? load(a.dstate_out, {b, h, p, n}) : 0.0;
      const double im = d.has_state_out_im ? load(a.dstate_out_im, {b, h, p, n}) : 0.0;
      G[p * N + n] = {re, im};
    }
  dq.assign(T * N, 0.0), dk.assign(T * N, 0.0);
  for (int64_t t = T - 1; t >= 0; --t) {
    const cd* St = &S[(t + 1) * PN];
    const cd* Sp = &S[t * PN];
    std::fill(dla.begin(), dla.end(), cd(0.0));
    for (int64_t p = 0; p < P; ++p) {
      const double dyp = a.scale * load(a.dy, {b, t, h, p});
      double dv = 0;
      for (int64_t n = 0; n < N; ++n) {
        cd& g = G[p * N + n];
        g += dyp * x.q[t * N + n];
        dq[t * N + n] += dyp * St[p * N + n].real();
        dk[t * N + n] += x.v[t * P + p] * g.real();
        dv += x.k[t * N + n] * g.real();
        dla[n] += std::conj(A[t * N + n] * Sp[p * N + n]) * g;
        g *= std::conj(A[t * N + n]);
      }
      if (gr_wanted(a.dv)) add_to(a.dv, {b, t, h, p}, dv);
    }
    // Gates: per key channel, or summed over n for one gate per head; Re is zero through the clamp (raw > 0).
    const int64_t ng = d.vector_gate ? N : 1;
    for (int64_t i = 0; i < ng; ++i) {
      cd g = 0;
      for (int64_t n = d.vector_gate ? i : 0; n < (d.vector_gate ? i + 1 : N); ++n) g += dla[n];
      const double raw = d.vector_gate ? load(a.log_decay, {b, t, h, i}) : load(a.log_decay, {b, t, h});
      if (raw > 0) g.real(0.0);  // clamped magnitude; the phase still acts
      if (gr_wanted(a.dlog_decay)) {
        d.vector_gate ? add_to(a.dlog_decay, {b, t, h, i}, g.real()) : add_to(a.dlog_decay, {b, t, h}, g.real());
      }
      if (gr_wanted(a.dphase)) {
        d.vector_gate ? add_to(a.dphase, {b, t, h, i}, g.imag()) : add_to(a.dphase, {b, t, h}, g.imag());
      }
    }
  }
  for (int64_t p = 0; p < P; ++p)
    for (int64_t n = 0; n < N; ++n) {
      if (gr_wanted(a.dstate_in)) add_to(a.dstate_in, {b, h, p, n}, G[p * N + n].real());
      if (gr_wanted(a.dstate_in_im)) add_to(a.dstate_in_im, {b, h, p, n}, G[p * N + n].imag());
    }
}

}  // namespace

void gated_recurrence_forward(const GatedRecurrenceArgs& args, RecurrenceMode mode) {
  const detail::GrDims d = detail::gr_validate(args, mode, /*unit_inner=*/false);
  for (int64_t b = 0; b < d.B; ++b) {
    for (int64_t h = 0; h < d.H; ++h) {
      Head x = gather(args, d, b, h);
      if (d.T > 0) {
        switch (mode) {
          case RecurrenceMode::kRecurrent: run_recurrent(x); break;
          case RecurrenceMode::kScan: run_scan(x); break;
          case RecurrenceMode::kQuadratic: run_quadratic(x); break;
          case RecurrenceMode::kChunked: run_chunked(x, args.chunk); break;
        }
      }
      scatter(args, d, b, h, x);
    }
  }
}

void gated_recurrence_step(const GatedRecurrenceStepArgs& args) {
  gated_recurrence_forward(detail::gr_step_as_forward(args), RecurrenceMode::kRecurrent);
}

void gated_recurrence_backward(const GatedRecurrenceBackwardArgs& args) {
  const detail::GrDims d = detail::gr_validate_backward(args, RecurrenceMode::kRecurrent, /*unit_inner=*/false);
  std::vector<double> dq, dk;
  for (int64_t b = 0; b < d.B; ++b) {
    for (int64_t h = 0; h < d.H; ++h) {
      backward_head(args, d, b, h, dq, dk);
      const int64_t grp = h / d.heads_per_group();
      for (int64_t t = 0; t < d.T; ++t)
        for (int64_t n = 0; n < d.N; ++n) {
          if (detail::gr_wanted(args.dq)) add_to(args.dq, {b, t, grp, n}, dq[t * d.N + n]);
          if (detail::gr_wanted(args.dk)) add_to(args.dk, {b, t, grp, n}, dk[t * d.N + n]);
        }
    }
  }
}

}  // namespace llamba::ops::ref
