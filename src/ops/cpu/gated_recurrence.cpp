// CPU gated_recurrence (fp32, and fp64 from the same templates): the entry points and dispatch, the recurrent
// mode and decode step (threads over (batch, head)), the blocked associative scan (threads over time) and the
// recurrent backward. kChunked / kQuadratic live in gated_recurrence_chunked.cpp, the chunked backward in
// gated_recurrence_chunked_bwd.cpp. The backward ACCUMULATES (+=) into its gradient outputs; callers zero them.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/gated_recurrence_cpu.h"
#include "ops/cpu/simd_loops.h"

namespace llamba::ops::cpu {
namespace {

using cpu::GrProblem;
using cpu::loop_axpy;

// One head's state, value-major like the views: re (P × N) and, for complex gates, im (P × N).
template <class T>
struct HeadState {
  std::vector<T> re, im;
  HeadState(int64_t P, int64_t N, bool cplx) : re(P * N, T(0)), im(cplx ? P * N : 0, T(0)) {}
};

// Per-thread scratch of the decode path (slot: which buffer), grown once and then reused, so a decode step
// allocates nothing. Contents are left from the last use.
template <class T>
T* thread_buffer(int slot, size_t n) {
  thread_local std::vector<T> bufs[4];
  if (bufs[slot].size() < n) bufs[slot].resize(n);
  return bufs[slot].data();
}

template <class T>
void load_state(const GrProblem<T>& pr, int64_t b, int64_t h, T* re, T* im) {
  const int64_t N = pr.d.N, P = pr.d.P;
  for (int64_t p = 0; p < P; ++p) {
    const T* r = pr.state_in_row(b, h, p);
    const T* i = pr.state_in_im_row(b, h, p);
    for (int64_t n = 0; n < N; ++n) re[p * N + n] = r ? r[n] : T(0);
    if (im)
      for (int64_t n = 0; n < N; ++n) im[p * N + n] = i ? i[n] : T(0);
  }
}

template <class T>
void store_state(const GrProblem<T>& pr, int64_t b, int64_t h, const T* re, const T* im) {
  const int64_t N = pr.d.N, P = pr.d.P;
  for (int64_t p = 0; p < P; ++p) {
    if (T* r = pr.state_out_row(b, h, p)) std::copy(re + p * N, re + (p + 1) * N, r);
    if (T* i = pr.state_out_im_row(b, h, p); i && im) std::copy(im + p * N, im + (p + 1) * N, i);
  }
}

// The gate a = exp(g + iθ) of one step, per key channel (kVector) or one per head; g clamped to <= 0.
template <class T, bool kVec, bool kCplx>
void load_gate(const GrProblem<T>& pr, int64_t b, int64_t t, int64_t h, T* ar, T* ai) {
  const int64_t ng = kVec ? pr.d.N : 1;
  const T* g = pr.g_row(b, t, h);
  const T* th = kCplx ? pr.th_row(b, t, h) : nullptr;
  for (int64_t n = 0; n < ng; ++n) {  // libm exp/cos/sin in the compute precision (<= 1 ulp each)
    const T e = std::exp(std::min(g[n], T(0)));
    ar[n] = kCplx ? e * std::cos(th[n]) : e;
    if (kCplx) ai[n] = e * std::sin(th[n]);
  }
}

// Accumulates the gate gradient g_{log a} (re, im: (N) fp64, summed over n for scalar gates) of step t into
// dlog_decay / dphase; dlog_decay gets none through the clamp (raw log_decay > 0).
template <class T, bool kVec, bool kCplx>
void store_gate_grad(const GrProblem<T>& pr, const cpu::GrGrads<T>& gr, int64_t b, int64_t t, int64_t h,
                     const double* re, const double* im) {
  const int64_t N = pr.d.N, ng = kVec ? N : 1;
  const T* g = pr.g_row(b, t, h);
  T* dg = gr.dg_row(b, t, h);
  T* dth = kCplx ? gr.dth_row(b, t, h) : nullptr;
  for (int64_t i = 0; i < ng; ++i) {
    double r = 0, m = 0;
    for (int64_t n = kVec ? i : 0; n < (kVec ? i + 1 : N); ++n) r += re[n], m += kCplx ? im[n] : 0.0;
    if (dg && !(g[i] > T(0))) dg[i] += (T)r;  // clamped magnitudes get none; the phase still acts
    if (dth) dth[i] += (T)m;
  }
}

// Runs steps [t0, t1) of head (b, h) on the state (re, im) in place; writes y rows when `emit`.
template <class T, bool kVec, bool kCplx>
void recur_steps(const GrProblem<T>& pr, int64_t b, int64_t h, int64_t t0, int64_t t1, T* __restrict re,
                 T* __restrict im, bool emit) {
  const int64_t N = pr.d.N, P = pr.d.P;
  const T scale = (T)pr.scale;
  T* ar = thread_buffer<T>(2, kVec ? N : 1);
  T* ai = thread_buffer<T>(3, kVec ? N : 1);
  std::fill(ai, ai + (kVec ? N : 1), T(0));
  for (int64_t t = t0; t < t1; ++t) {
    const T* __restrict q = pr.q_row(b, t, h);
    const T* __restrict k = pr.k_row(b, t, h);
    const T* v = pr.v_row(b, t, h);
    load_gate<T, kVec, kCplx>(pr, b, t, h, ar, ai);
    T* y = emit ? pr.y_row(b, t, h) : nullptr;
    for (int64_t p = 0; p < P; ++p) {
      T* __restrict sr = re + p * N;
      const T vp = v[p];
      if constexpr (kCplx) {
        T* __restrict si = im + p * N;
        for (int64_t n = 0; n < N; ++n) {
          const T a_r = ar[kVec ? n : 0], a_i = ai[kVec ? n : 0], r = sr[n], i = si[n];
          sr[n] = (a_r * r - a_i * i) + vp * k[n];
          si[n] = a_r * i + a_i * r;
        }
      } else if constexpr (kVec) {
        const T* __restrict a = ar;
        for (int64_t n = 0; n < N; ++n) sr[n] = a[n] * sr[n] + vp * k[n];
      } else {
        const T a = ar[0];
        for (int64_t n = 0; n < N; ++n) sr[n] = a * sr[n] + vp * k[n];
      }
      if (emit) y[p] = scale * cpu::loop_dot(N, sr, q);
    }
  }
}

template <class T, bool kVec, bool kCplx>
void run_recurrent(core::ThreadPool& pool, const GrProblem<T>& pr) {
  const int64_t B = pr.d.B, H = pr.d.H;
  pool.run_tasks(B * H, [&](int64_t bh) {
    const int64_t b = bh / H, h = bh % H;
    const size_t PN = (size_t)(pr.d.P * pr.d.N);
    T* re = thread_buffer<T>(0, PN);
    T* im = kCplx ? thread_buffer<T>(1, PN) : nullptr;
    std::fill(re, re + PN, T(0));
    if (kCplx) std::fill(im, im + PN, T(0));
    load_state(pr, b, h, re, im);
    recur_steps<T, kVec, kCplx>(pr, b, h, 0, pr.d.T, re, im, true);
    store_state(pr, b, h, re, im);
  });
}

// Blocked reduce-then-scan over time, nb = min(pool size, T) blocks per head:
//   1. every block but the last folds the operator from the identity: (A_j, S_j) = e_{t0}•…•e_{t1−1}
//      (A_j from fp64 sums of log a, S_j by the recurrence from a zero state);
//   2. per head, carries left to right: C_0 = h_{−1}, C_{j+1} = (C_j, …)•(A_j, S_j) = A_j ⊙ C_j + S_j;
//   3. every block re-runs the recurrence from its carry and writes y (the last block the final state).
// Work 2·T·P·N (+ nb·P·N), depth 2·T/nb + nb, memory B·H·nb·P·N.
template <class T, bool kVec, bool kCplx>
void run_scan(core::ThreadPool& pool, const GrProblem<T>& pr) {
  const int64_t B = pr.d.B, H = pr.d.H, T_ = pr.d.T, N = pr.d.N, P = pr.d.P, PN = P * N;
  const int64_t nb = std::min<int64_t>(pool.size(), T_), ng = kVec ? N : 1;
  if (nb <= 1) return run_recurrent<T, kVec, kCplx>(pool, pr);
  auto t_begin = [&](int64_t j) { return T_ * j / nb; };
  // Per (b·H + h, j): block state (re, im) and block aggregate (ar, ai).
  std::vector<T> s_re(B * H * nb * PN, T(0)), s_im(kCplx ? B * H * nb * PN : 0, T(0));
  std::vector<T> a_re(B * H * nb * ng), a_im(B * H * nb * ng, T(0));
  pool.run_tasks(B * H * (nb - 1), [&](int64_t task) {
    const int64_t bh = task / (nb - 1), j = task % (nb - 1), b = bh / H, h = bh % H, slot = bh * nb + j;
    recur_steps<T, kVec, kCplx>(pr, b, h, t_begin(j), t_begin(j + 1), &s_re[slot * PN],
                                kCplx ? &s_im[slot * PN] : nullptr, false);
    std::vector<double> sg(ng, 0.0), sth(ng, 0.0);
    for (int64_t t = t_begin(j); t < t_begin(j + 1); ++t) {
      const T* g = pr.g_row(b, t, h);
      for (int64_t n = 0; n < ng; ++n) sg[n] += std::min((double)g[n], 0.0);
      if (kCplx) {
        const T* th = pr.th_row(b, t, h);
        for (int64_t n = 0; n < ng; ++n) sth[n] = cpu::wrap_2pi(sth[n] + (double)th[n]);
      }
    }
    for (int64_t n = 0; n < ng; ++n) {
      const double e = std::exp(sg[n]);
      a_re[slot * ng + n] = (T)(kCplx ? e * std::cos(sth[n]) : e);
      a_im[slot * ng + n] = (T)(kCplx ? e * std::sin(sth[n]) : 0.0);
    }
  });
  pool.run_tasks(B * H, [&](int64_t bh) {
    HeadState<T> c(P, N, kCplx), tmp(P, N, kCplx);
    load_state(pr, bh / H, bh % H, c.re.data(), kCplx ? c.im.data() : nullptr);
    for (int64_t j = 0; j < nb; ++j) {
      const int64_t slot = bh * nb + j;
      T* br = &s_re[slot * PN];
      T* bi = kCplx ? &s_im[slot * PN] : nullptr;
      std::copy(br, br + PN, tmp.re.begin());
      std::copy(c.re.begin(), c.re.end(), br);
      if (kCplx) {
        std::copy(bi, bi + PN, tmp.im.begin());
        std::copy(c.im.begin(), c.im.end(), bi);
      }
      if (j == nb - 1) break;
      const T* ar = &a_re[slot * ng];
      const T* ai = &a_im[slot * ng];
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t n = 0; n < N; ++n) {
          const int64_t i = p * N + n, gi = kVec ? n : 0;
          const T r = c.re[i];
          if (kCplx) {
            const T m = c.im[i];
            c.re[i] = (ar[gi] * r - ai[gi] * m) + tmp.re[i];
            c.im[i] = (ar[gi] * m + ai[gi] * r) + tmp.im[i];
          } else {
            c.re[i] = ar[gi] * r + tmp.re[i];
          }
        }
      }
    }
  });
  pool.run_tasks(B * H * nb, [&](int64_t task) {
    const int64_t bh = task / nb, j = task % nb, b = bh / H, h = bh % H, slot = bh * nb + j;
    T* re = &s_re[slot * PN];
    T* im = kCplx ? &s_im[slot * PN] : nullptr;
    recur_steps<T, kVec, kCplx>(pr, b, h, t_begin(j), t_begin(j + 1), re, im, true);
    if (j == nb - 1) store_state(pr, b, h, re, im);
  });
}

// Recurrent backward of head (b, h): the reverse-time loop of docs/recurrence.md §"Gradients" with G = g_{h_t} (PyTorch
// convention), states recomputed per segment of kCkpt steps from checkpoints saved by a first forward pass
// (memory (T/kCkpt + kCkpt)·P·N per head instead of T·P·N). Per step t, walking back:
//   G += scale·dy_tᵀ q_t;  dq_t += scale·Σ_p dy_tp Re h_t;  dk_t += Σ_p v_tp Re G;  dv_t += Σ_n k_tn Re G;
//   g_{log a_t} = Σ_p conj(a_t h_{t−1}) G  (0 when a_t = 0, fp64 sums);  G ← conj(a_t) ⊙ G.
// dq, dk go to `dq`, `dk` (T, N) rows of this head when given (grouped heads), else straight to the outputs.
constexpr int64_t kCkpt = 64;

template <class T, bool kVec, bool kCplx>
void backward_head(const GrProblem<T>& pr, const cpu::GrGrads<T>& gr, int64_t b, int64_t h, T* dq_scratch,
                   T* dk_scratch) {
  const int64_t T_ = pr.d.T, N = pr.d.N, P = pr.d.P, PN = P * N, nseg = (T_ + kCkpt - 1) / kCkpt;
  const int64_t ng = kVec ? N : 1;
  const T scale = (T)pr.scale;
  std::vector<T> ck_re(nseg * PN), ck_im(kCplx ? nseg * PN : 0);
  {
    HeadState<T> s(P, N, kCplx);
    load_state(pr, b, h, s.re.data(), kCplx ? s.im.data() : nullptr);
    for (int64_t j = 0; j < nseg; ++j) {
      std::copy(s.re.begin(), s.re.end(), &ck_re[j * PN]);
      if (kCplx) std::copy(s.im.begin(), s.im.end(), &ck_im[j * PN]);
      if (j + 1 < nseg)
        recur_steps<T, kVec, kCplx>(pr, b, h, j * kCkpt, (j + 1) * kCkpt, s.re.data(), s.im.data(), false);
    }
  }
  std::vector<T> G_re(PN, T(0)), G_im(kCplx ? PN : 0, T(0)), ar(ng), ai(ng, T(0));
  for (int64_t p = 0; p < P; ++p) {
    const T* r = gr.dso_row(b, h, p);
    const T* i = gr.dso_im_row(b, h, p);
    if (r) std::copy(r, r + N, &G_re[p * N]);
    if (kCplx && i) std::copy(i, i + N, &G_im[p * N]);
  }
  std::vector<T> buf_re((kCkpt + 1) * PN), buf_im(kCplx ? (kCkpt + 1) * PN : 0);
  std::vector<double> dla_re(N), dla_im(N);
  for (int64_t j = nseg - 1; j >= 0; --j) {
    const int64_t t0 = j * kCkpt, t1 = std::min(T_, t0 + kCkpt);
    std::copy(&ck_re[j * PN], &ck_re[(j + 1) * PN], buf_re.begin());  // buf block i holds h_{t0+i−1}
    if (kCplx) std::copy(&ck_im[j * PN], &ck_im[(j + 1) * PN], buf_im.begin());
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i = t - t0;
      std::copy(&buf_re[i * PN], &buf_re[(i + 1) * PN], &buf_re[(i + 1) * PN]);
      if (kCplx) std::copy(&buf_im[i * PN], &buf_im[(i + 1) * PN], &buf_im[(i + 1) * PN]);
      recur_steps<T, kVec, kCplx>(pr, b, h, t, t + 1, &buf_re[(i + 1) * PN], kCplx ? &buf_im[(i + 1) * PN] : nullptr,
                                  false);
    }
    for (int64_t t = t1 - 1; t >= t0; --t) {
      const T* St = &buf_re[(t - t0 + 1) * PN];
      const T* Sp_re = &buf_re[(t - t0) * PN];
      const T* Sp_im = kCplx ? &buf_im[(t - t0) * PN] : nullptr;
      const T* q = pr.q_row(b, t, h);
      const T* k = pr.k_row(b, t, h);
      const T* v = pr.v_row(b, t, h);
      const T* dy = gr.dy_row(b, t, h);
      T* dq = dq_scratch ? dq_scratch + t * N : gr.dq_row(b, t, h);
      T* dk = dk_scratch ? dk_scratch + t * N : gr.dk_row(b, t, h);
      T* dv = gr.dv_row(b, t, h);
      load_gate<T, kVec, kCplx>(pr, b, t, h, ar.data(), ai.data());
      std::fill(dla_re.begin(), dla_re.end(), 0.0);
      std::fill(dla_im.begin(), dla_im.end(), 0.0);
      for (int64_t p = 0; p < P; ++p) {
        const T dyp = scale * dy[p], vp = v[p];
        T* __restrict gre = &G_re[p * N];
        T* __restrict gim = kCplx ? &G_im[p * N] : nullptr;
        for (int64_t n = 0; n < N; ++n) gre[n] += dyp * q[n];
        if (dq) loop_axpy(N, dyp, St + p * N, dq);
        if (dk) loop_axpy(N, vp, gre, dk);
        if (dv) dv[p] += cpu::loop_dot(N, k, gre);
        for (int64_t n = 0; n < N; ++n) {  // u = a·h_{t−1}; g_{log a} += conj(u)·G; G ← conj(a)·G
          const T a_r = ar[kVec ? n : 0], a_i = ai[kVec ? n : 0];
          const T sr = Sp_re[p * N + n], si = kCplx ? Sp_im[p * N + n] : T(0);
          const T ur = kCplx ? a_r * sr - a_i * si : a_r * sr, ui = kCplx ? a_r * si + a_i * sr : T(0);
          const T g_r = gre[n], g_i = kCplx ? gim[n] : T(0);
          dla_re[n] += (double)ur * g_r + (double)ui * g_i;
          if (kCplx) {
            dla_im[n] += (double)ur * g_i - (double)ui * g_r;
            gre[n] = a_r * g_r + a_i * g_i;
            gim[n] = a_r * g_i - a_i * g_r;
          } else {
            gre[n] = a_r * g_r;
          }
        }
      }
      store_gate_grad<T, kVec, kCplx>(pr, gr, b, t, h, dla_re.data(), dla_im.data());
    }
  }
  for (int64_t p = 0; p < P; ++p) {
    if (T* r = gr.dsi_row(b, h, p)) loop_axpy(N, T(1), &G_re[p * N], r);
    if (T* i = gr.dsi_im_row(b, h, p); kCplx && i) loop_axpy(N, T(1), &G_im[p * N], i);
  }
}

template <class T, bool kVec, bool kCplx>
void run_recurrent_backward(core::ThreadPool& pool, const GrProblem<T>& pr, const cpu::GrGrads<T>& gr) {
  const int64_t B = pr.d.B, H = pr.d.H, T_ = pr.d.T, N = pr.d.N, hpg = gr.hpg;
  // Heads of one group write the same dq / dk rows: with hpg > 1 each head fills its own rows, summed after.
  const bool grouped = hpg > 1 && (gr.dq.p || gr.dk.p);
  std::vector<T> dq_s(grouped && gr.dq.p ? B * H * T_ * N : 0, T(0)),
      dk_s(grouped && gr.dk.p ? B * H * T_ * N : 0, T(0));
  pool.run_tasks(B * H, [&](int64_t bh) {
    backward_head<T, kVec, kCplx>(pr, gr, bh / H, bh % H, dq_s.empty() ? nullptr : &dq_s[bh * T_ * N],
                                  dk_s.empty() ? nullptr : &dk_s[bh * T_ * N]);
  });
  if (!grouped) return;
  pool.run_tasks(B * T_, [&](int64_t bt) {
    const int64_t b = bt / T_, t = bt % T_;
    for (int64_t h = 0; h < H; ++h) {  // heads in order: deterministic sums
      if (!dq_s.empty()) loop_axpy(N, T(1), &dq_s[((b * H + h) * T_ + t) * N], gr.dq_row(b, t, h));
      if (!dk_s.empty()) loop_axpy(N, T(1), &dk_s[((b * H + h) * T_ + t) * N], gr.dk_row(b, t, h));
    }
  });
}

// T = 0: y is empty and the final state is the initial one.
template <class T>
void pass_state_through(core::ThreadPool& pool, const GrProblem<T>& pr) {
  const int64_t H = pr.d.H;
  pool.run_tasks(pr.d.B * H, [&](int64_t bh) {
    HeadState<T> s(pr.d.P, pr.d.N, pr.d.complex);
    load_state(pr, bh / H, bh % H, s.re.data(), pr.d.complex ? s.im.data() : nullptr);
    store_state(pr, bh / H, bh % H, s.re.data(), pr.d.complex ? s.im.data() : nullptr);
  });
}

}  // namespace

void gated_recurrence_forward(core::ThreadPool& pool, const GatedRecurrenceArgs& args, RecurrenceMode mode) {
  const detail::GrDims d = detail::gr_validate(args, mode, /*unit_inner=*/true);
  if (d.B == 0 || d.H == 0) return;
  if (d.N == 0 || d.P == 0) {  // no state: y = 0
    cpu::gr_dispatch(d, [&]<class T, bool, bool>() {
      const GrProblem<T> pr(args, d);
      for (int64_t b = 0; b < d.B; ++b)
        for (int64_t t = 0; t < d.T; ++t)
          for (int64_t h = 0; h < d.H; ++h) std::fill(pr.y_row(b, t, h), pr.y_row(b, t, h) + d.P, T(0));
    });
    return;
  }
  if (d.T > 0 && (mode == RecurrenceMode::kChunked || mode == RecurrenceMode::kQuadratic)) {
    cpu::gated_recurrence_chunked(pool, args, d, mode);
    return;
  }
  cpu::gr_dispatch(d, [&]<class T, bool kVec, bool kCplx>() {
    const GrProblem<T> pr(args, d);
    if (d.T == 0) {
      pass_state_through(pool, pr);
    } else if (mode == RecurrenceMode::kScan) {
      run_scan<T, kVec, kCplx>(pool, pr);
    } else {
      run_recurrent<T, kVec, kCplx>(pool, pr);
    }
  });
}

void gated_recurrence_step(core::ThreadPool& pool, const GatedRecurrenceStepArgs& args) {
  gated_recurrence_forward(pool, detail::gr_step_as_forward(args), RecurrenceMode::kRecurrent);
}

void gated_recurrence_backward(core::ThreadPool& pool, const GatedRecurrenceBackwardArgs& args, RecurrenceMode mode) {
  const detail::GrDims d = detail::gr_validate_backward(args, mode, /*unit_inner=*/true);
  if (d.B == 0 || d.H == 0 || d.N == 0 || d.P == 0) return;  // no state: y = 0, every gradient is zero
  const GatedRecurrenceArgs fwd = detail::gr_backward_as_forward(args);
  if (d.T > 0 && mode == RecurrenceMode::kChunked) {
    cpu::gated_recurrence_chunked_backward(pool, args, d);
    return;
  }
  cpu::gr_dispatch(d, [&]<class T, bool kVec, bool kCplx>() {
    const GrProblem<T> pr(fwd, d);
    const cpu::GrGrads<T> gr(args, d);
    run_recurrent_backward<T, kVec, kCplx>(pool, pr, gr);  // T = 0: dstate_in += dstate_out
  });
}

}  // namespace llamba::ops::cpu
