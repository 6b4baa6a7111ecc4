// Internal to the cpu chunked gated_recurrence files (forward gated_recurrence_chunked.cpp, backward
// gated_recurrence_chunked_bwd.cpp): the real kernel with key dimension K2 = N (real gates) or 2N (complex
// gates, docs/recurrence.md §"Rotation reduction"): per-head operands with their decays, chunk states and state
// passing, and the per-call rotation tables. The conventions (frames, decay reference points) are described
// at the top of gated_recurrence_chunked.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/gated_recurrence_cpu.h"
#include "ops/cpu/simd_loops.h"

namespace llamba::ops::cpu::gr_chunked {

constexpr int64_t kColTile = 128;  // columns per off-diagonal tile
// Rows per block: the elementwise (diagonal) part costs rows·N exps per row for vector gates, rows for scalar.
constexpr int64_t row_block(bool vec) { return vec ? 16 : 64; }

// Σ a[i]·b[i]·c[i] in a fixed lane-blocked order (vectorizes like `loop_dot`).
template <class T>
T dot3(int64_t n, const T* __restrict a, const T* __restrict b, const T* __restrict c) {
  constexpr int kLanes = 16;
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += a[i + j] * (b[i + j] * c[i + j]);
  T tail = 0;
  for (; i < n; ++i) tail += a[i] * (b[i] * c[i]);
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0] + tail;
}

// One (b, h) of the call, with its rotation table rows (complex gates).
template <class T, bool kVec, bool kCplx>
struct Head {
  const GrProblem<T>& pr;
  int64_t b, h;
  const T* rot_c = nullptr;  // (T, ng) cos Θ_t
  const T* rot_s = nullptr;  // (T, ng) sin Θ_t
  int64_t N = pr.d.N, P = pr.d.P, ng = kVec ? pr.d.N : 1, K2 = kCplx ? 2 * pr.d.N : pr.d.N;

  Head(const GrProblem<T>& p, int64_t b_, int64_t h_) : pr(p), b(b_), h(h_) {}

  double g(int64_t t, int64_t n) const { return std::min((double)pr.g_row(b, t, h)[n], 0.0); }
  const T* q(int64_t t) const { return pr.q_row(b, t, h); }  // (N), rows at stride q_ld()
  const T* k(int64_t t) const { return pr.k_row(b, t, h); }  // (N)
  const T* v(int64_t t) const { return pr.v_row(b, t, h); }  // (P), rows at stride v_ld()
  int64_t q_ld() const { return pr.q.s1; }
  int64_t v_ld() const { return pr.v.s1; }
  // x (N) → out[0..N) = x·cos Θ_t, out[N..2N) = x·sin Θ_t (complex), or a copy.
  void rotate(int64_t t, const T* x, T* out) const {
    if constexpr (kCplx) {
      const T* c = rot_c + t * ng;
      const T* s = rot_s + t * ng;
      for (int64_t n = 0; n < N; ++n) out[n] = x[n] * c[kVec ? n : 0], out[N + n] = x[n] * s[kVec ? n : 0];
    } else {
      std::copy(x, x + N, out);
    }
  }
};

// Rows t ∈ [r0, r1): q̃_t = rotate(q_t ⊙ exp(Σ_{j=r0..t} log|a_j|))  → out (r1 − r0, K2); the decay factors
// themselves → dec (r1 − r0, ng) when not null (the backward chains through them).
template <class T, bool kVec, bool kCplx>
void build_q(const Head<T, kVec, kCplx>& hd, int64_t r0, int64_t r1, T* out, T* dec = nullptr) {
  std::vector<double> L(hd.ng, 0.0);
  std::vector<T> e(hd.ng), x(hd.N);
  for (int64_t t = r0; t < r1; ++t) {
    for (int64_t n = 0; n < hd.ng; ++n) L[n] += hd.g(t, n), e[n] = (T)L[n];
    exp_nonpos_inplace(hd.ng, e.data());
    if (dec) std::copy(e.begin(), e.end(), dec + (t - r0) * hd.ng);
    const T* q = hd.q(t);
    for (int64_t n = 0; n < hd.N; ++n) x[n] = q[n] * e[kVec ? n : 0];
    hd.rotate(t, x.data(), out + (t - r0) * hd.K2);
  }
}

// Columns s ∈ [s0, s1): k̃_s = rotate(k_s ⊙ exp(run + Σ_{j=s+1..s1−1} log|a_j|)), written transposed into
// out (K2 × ld) at column s − s0. `run` (ng, fp64) enters as the log decay from s1 to the reference point
// and leaves as the log decay from s0 to it, so tiles walked right to left chain. The decay factors
// → dec (s1 − s0, ng) when not null.
template <class T, bool kVec, bool kCplx>
void build_kT(const Head<T, kVec, kCplx>& hd, int64_t s0, int64_t s1, double* run, T* out, int64_t ld,
              T* dec = nullptr) {
  std::vector<T> e(hd.ng), x(hd.N), r(hd.K2);
  for (int64_t s = s1 - 1; s >= s0; --s) {
    for (int64_t n = 0; n < hd.ng; ++n) e[n] = (T)run[n];
    exp_nonpos_inplace(hd.ng, e.data());
    if (dec) std::copy(e.begin(), e.end(), dec + (s - s0) * hd.ng);
    const T* k = hd.k(s);
    for (int64_t n = 0; n < hd.N; ++n) x[n] = k[n] * e[kVec ? n : 0];
    hd.rotate(s, x.data(), r.data());
    for (int64_t i = 0; i < hd.K2; ++i) out[i * ld + (s - s0)] = r[i];
    for (int64_t n = 0; n < hd.ng; ++n) run[n] += hd.g(s, n);
  }
}

// Chunk state in the absolute frame: Zc (K2 × P) = Σ_{s ∈ [c0, c1)} k̃_s^{(c1−1)} ⊗ v_s, with decays referred
// to c1 − 1; D (ng) = exp(Σ_{j=c0..c1−1} log|a_j|).
template <class T, bool kVec, bool kCplx>
void chunk_state(const Head<T, kVec, kCplx>& hd, int64_t c0, int64_t c1, T* Zc, T* D) {
  const int64_t P = hd.P;
  std::vector<double> run(hd.ng, 0.0);
  std::vector<T> KT(hd.K2 * kColTile);
  std::fill(Zc, Zc + hd.K2 * P, T(0));
  for (int64_t s1 = c1, s0; s1 > c0; s1 = s0) {
    s0 = std::max(c0, s1 - kColTile);
    const int64_t w = s1 - s0;
    build_kT(hd, s0, s1, run.data(), KT.data(), w);
    gemm_acc(hd.K2, P, w, KT.data(), w, hd.v(s0), hd.v_ld(), Zc, P);
  }
  for (int64_t n = 0; n < hd.ng; ++n) D[n] = (T)run[n];
  exp_nonpos_inplace(hd.ng, D);
}

// Z ← D ⊙ Z + Zc (rows n, and N + n for complex, scaled by D[n]).
template <class T, bool kVec, bool kCplx>
void pass_state(const Head<T, kVec, kCplx>& hd, const T* D, const T* Zc, T* Z) {
  for (int64_t i = 0; i < hd.K2; ++i) {
    const T d = D[kVec ? i % hd.N : 0];
    for (int64_t p = 0; p < hd.P; ++p) Z[i * hd.P + p] = d * Z[i * hd.P + p] + Zc[i * hd.P + p];
  }
}

// Per-call shared data: rotation tables, the initial state in the absolute frame, the head factory.
template <class T, bool kVec, bool kCplx>
struct Call {
  const GrProblem<T>& pr;
  int64_t H = pr.d.H, T_ = pr.d.T, N = pr.d.N, P = pr.d.P, ng = kVec ? pr.d.N : 1;
  int64_t K2 = kCplx ? 2 * pr.d.N : pr.d.N;
  std::vector<T> rot_c, rot_s;    // (B·H, T, ng)
  std::vector<double> theta_end;  // (B·H, ng) Θ_{T−1}, wrapped
  std::vector<T> z0;              // (B·H, K2, P)

  explicit Call(const GrProblem<T>& p) : pr(p) {}

  Head<T, kVec, kCplx> head(int64_t bh) const {
    Head<T, kVec, kCplx> hd(pr, bh / H, bh % H);
    if (kCplx) hd.rot_c = &rot_c[bh * T_ * ng], hd.rot_s = &rot_s[bh * T_ * ng];
    return hd;
  }

  // Rotation tables and z0 (reads every state_in before anything writes a state_out).
  void prepare(core::ThreadPool& pool) {
    const int64_t BH = pr.d.B * H;
    if (kCplx) rot_c.resize(BH * T_ * ng), rot_s.resize(BH * T_ * ng), theta_end.resize(BH * ng);
    z0.assign(BH * K2 * P, T(0));
    pool.run_tasks(BH, [&](int64_t bh) {
      const int64_t b = bh / H, h = bh % H;
      if constexpr (kCplx) {
        std::vector<double> th(ng, 0.0);
        for (int64_t t = 0; t < T_; ++t) {
          const T* x = pr.th_row(b, t, h);
          for (int64_t n = 0; n < ng; ++n) {
            th[n] = wrap_2pi(th[n] + (double)x[n]);
            const T w = (T)th[n];  // in [−π, π]: cos/sin in the compute precision lose nothing more
            rot_c[(bh * T_ + t) * ng + n] = std::cos(w);
            rot_s[(bh * T_ + t) * ng + n] = std::sin(w);
          }
        }
        std::copy(th.begin(), th.end(), &theta_end[bh * ng]);
      }
      T* z = &z0[bh * K2 * P];  // h_{−1} = Z_c − i·Z_s at Θ = 0
      for (int64_t p = 0; p < P; ++p) {
        const T* re = pr.state_in_row(b, h, p);
        const T* im = pr.state_in_im_row(b, h, p);
        for (int64_t n = 0; n < N; ++n) {
          if (re) z[n * P + p] = re[n];
          if (kCplx && im) z[(N + n) * P + p] = -im[n];
        }
      }
    });
  }

  // Writes state_out (and state_out_im) from Z in the absolute frame at Θ_{T−1}.
  void store_final(int64_t bh, const T* Z) const {
    const int64_t b = bh / H, h = bh % H;
    for (int64_t p = 0; p < P; ++p) {
      T* re = pr.state_out_row(b, h, p);
      T* im = pr.state_out_im_row(b, h, p);
      for (int64_t n = 0; n < N; ++n) {
        const T zc = Z[n * P + p];
        if constexpr (kCplx) {
          const double th = theta_end[bh * ng + (kVec ? n : 0)], c = std::cos(th), s = std::sin(th);
          const T zs = Z[(N + n) * P + p];
          if (re) re[n] = (T)(c * zc + s * zs);
          if (im) im[n] = (T)(s * zc - c * zs);
        } else if (re) {
          re[n] = zc;
        }
      }
    }
  }
};

}  // namespace llamba::ops::cpu::gr_chunked
