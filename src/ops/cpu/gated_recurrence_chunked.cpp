// CPU gated_recurrence, kChunked and kQuadratic: one real kernel with key dimension K2 = N (real gates) or 2N
// (complex gates, docs/recurrence.md §"Rotation reduction"), built from row blocks of the surrogate attention
// plus chunk states. The shared pieces (operands, chunk states, rotation tables) live in
// gated_recurrence_chunked.h; the backward (gated_recurrence_chunked_bwd.cpp) reruns them.
//
// Rotation: Θ_t = Σ_{j<=t} θ_j is accumulated in fp64 and wrapped to [−π, π]; q̃_t = [q cos Θ_t | q sin Θ_t],
// k̃_s = [k cos Θ_s | k sin Θ_s], so Re(e^{i(Θ_t − Θ_s)}) q·k = q̃·k̃. The state is kept in the absolute
// frame Z (K2 × P): h[p, n] = e^{iΘ}(Z[n, p] − i·Z[N + n, p]), decayed by |a| only.
// Decays: every exponent is a sum of non-positive log|a| (running sums, fp64 where long), referred to the
// start of a row block (rows) or its end (columns): exp(Σ_{s<j<=t}) = exp(Σ_{r0<=j<=t}) · exp(Σ_{s<j<r0}),
// both factors <= 1, so the factorized matmul never overflows; inside a row block the mask is elementwise.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/gated_recurrence_chunked.h"

namespace llamba::ops::cpu {
namespace {

using namespace gr_chunked;  // NOLINT: the kernel pieces shared with the backward

// Y (r1 − r0, P) += Σ_{s ∈ [c0, r0)} (q̃_t · k̃_s) v_s for the row block, Qt = build_q(r0, r1). Leaves in x
// (ng) the log decay Σ_{j=c0..r0−1} log|a_j| that refers the rows to c0.
template <class T, bool kVec, bool kCplx>
void off_diagonal(const Head<T, kVec, kCplx>& hd, int64_t c0, int64_t r0, int64_t r1, const T* Qt, T* Y,
                  double* x) {
  const int64_t rows = r1 - r0;
  std::fill(x, x + hd.ng, 0.0);
  if (r0 == c0) return;
  std::vector<T> KT(hd.K2 * kColTile), A(rows * kColTile);
  for (int64_t s1 = r0, s0; s1 > c0; s1 = s0) {
    s0 = std::max(c0, s1 - kColTile);
    const int64_t w = s1 - s0;
    build_kT(hd, s0, s1, x, KT.data(), w);
    std::fill(A.begin(), A.begin() + rows * w, T(0));
    gemm_acc(rows, w, hd.K2, Qt, hd.K2, KT.data(), w, A.data(), w);
    gemm_acc(rows, hd.P, w, A.data(), w, hd.v(s0), hd.v_ld(), Y, hd.P);
  }
}

// Y (r1 − r0, P) += Σ_{s ∈ [r0, t]} A_ts v_s with the mask in log space, elementwise:
// A_ts = Σ_n q_tn k_sn exp(Σ_{j=s+1..t} log|a_jn|) cos(Θ_tn − Θ_sn), accumulated from s = t down.
template <class T, bool kVec, bool kCplx>
void diagonal(const Head<T, kVec, kCplx>& hd, int64_t r0, int64_t r1, T* Y) {
  const int64_t rows = r1 - r0, N = hd.N;
  std::vector<T> A(rows * rows, T(0));
  if constexpr (!kVec) {  // one gate per head: A = (Q Kᵀ) ⊙ M, M_ts = exp(seg_ts) · cos(Θ_t − Θ_s)
    std::vector<T> KT(N * rows), m(rows);
    for (int64_t s = 0; s < rows; ++s)
      for (int64_t n = 0; n < N; ++n) KT[n * rows + s] = hd.k(r0 + s)[n];
    gemm_acc(rows, rows, N, hd.q(r0), hd.q_ld(), KT.data(), rows, A.data(), rows);
    for (int64_t t = 0; t < rows; ++t) {
      double seg = 0;
      for (int64_t s = t; s >= 0; --s) m[s] = (T)seg, seg += hd.g(r0 + s, 0);
      exp_nonpos_inplace(t + 1, m.data());
      T* a = &A[t * rows];
      if constexpr (kCplx) {
        const T ct = hd.rot_c[r0 + t], st = hd.rot_s[r0 + t];
        for (int64_t s = 0; s <= t; ++s) a[s] *= m[s] * (ct * hd.rot_c[r0 + s] + st * hd.rot_s[r0 + s]);
      } else {
        for (int64_t s = 0; s <= t; ++s) a[s] *= m[s];
      }
      std::fill(a + t + 1, a + rows, T(0));
    }
  } else {  // one gate per key channel: the decay stays inside the sum over n
    // Inside the block the pairwise decays are running products of the per-step |a| <= 1 (never divided;
    // <= `rows` roundings, like a running sum of the logs), so each step costs N multiplies instead of N exps.
    std::vector<T> QR(rows * hd.K2), KR(rows * hd.K2), dec(rows * N), e(N);
    for (int64_t t = 0; t < rows; ++t) {
      hd.rotate(r0 + t, hd.q(r0 + t), &QR[t * hd.K2]);
      hd.rotate(r0 + t, hd.k(r0 + t), &KR[t * hd.K2]);
      const T* g = hd.pr.g_row(hd.b, r0 + t, hd.h);
      for (int64_t n = 0; n < N; ++n) dec[t * N + n] = g[n];
    }
    exp_nonpos_inplace(rows * N, dec.data());
    for (int64_t t = 0; t < rows; ++t) {
      std::fill(e.begin(), e.end(), T(1));
      for (int64_t s = t; s >= 0; --s) {  // e = Π_{j=s+1..t} |a_j|
        T w = dot3(N, e.data(), &QR[t * hd.K2], &KR[s * hd.K2]);
        if constexpr (kCplx) w += dot3(N, e.data(), &QR[t * hd.K2 + N], &KR[s * hd.K2 + N]);
        A[t * rows + s] = w;
        const T* d = &dec[s * N];
        for (int64_t n = 0; n < N; ++n) e[n] *= d[n];
      }
    }
  }
  gemm_acc(rows, hd.P, rows, A.data(), rows, hd.v(r0), hd.v_ld(), Y, hd.P);
}

// Output rows [r0, r1) of the block whose columns start at c0, plus the term of the state Z (K2 × P, absolute
// frame) entering at c0 (null: none); writes y = scale · Y.
template <class T, bool kVec, bool kCplx>
void emit_rows(const Head<T, kVec, kCplx>& hd, int64_t c0, int64_t r0, int64_t r1, const T* Z) {
  const int64_t rows = r1 - r0, P = hd.P;
  std::vector<T> Qt(rows * hd.K2), Y(rows * P, T(0)), e(hd.ng);
  std::vector<double> x(hd.ng);
  build_q(hd, r0, r1, Qt.data());
  off_diagonal(hd, c0, r0, r1, Qt.data(), Y.data(), x.data());
  diagonal(hd, r0, r1, Y.data());
  if (Z) {  // q̂_t = q̃_t ⊙ exp(x): the rows referred to c0
    for (int64_t n = 0; n < hd.ng; ++n) e[n] = (T)x[n];
    exp_nonpos_inplace(hd.ng, e.data());
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t i = 0; i < hd.K2; ++i) Qt[t * hd.K2 + i] *= e[kVec ? i % hd.N : 0];
    gemm_acc(rows, P, hd.K2, Qt.data(), hd.K2, Z, P, Y.data(), P);
  }
  const T scale = (T)hd.pr.scale;
  for (int64_t t = 0; t < rows; ++t) {
    T* y = hd.pr.y_row(hd.b, r0 + t, hd.h);
    for (int64_t p = 0; p < P; ++p) y[p] = scale * Y[t * P + p];
  }
}

template <class T, bool kVec, bool kCplx>
void run_chunked(core::ThreadPool& pool, const GrProblem<T>& pr) {
  Call<T, kVec, kCplx> call(pr);
  call.prepare(pool);
  const int64_t BH = pr.d.B * call.H, T_ = pr.d.T, C = pr.chunk, nc = (T_ + C - 1) / C;
  const int64_t K2P = call.K2 * call.P, ng = call.ng, sub = row_block(kVec);
  std::vector<T> zs(BH * nc * K2P), ds(BH * nc * ng);  // chunk states: Zc after pass 1, Z_in after pass 2
  pool.run_tasks(BH * nc, [&](int64_t task) {
    const int64_t bh = task / nc, c = task % nc;
    chunk_state(call.head(bh), c * C, std::min(T_, (c + 1) * C), &zs[task * K2P], &ds[task * ng]);
  });
  pool.run_tasks(BH, [&](int64_t bh) {
    const auto hd = call.head(bh);
    std::vector<T> Z(&call.z0[bh * K2P], &call.z0[(bh + 1) * K2P]), zc(K2P);
    for (int64_t c = 0; c < nc; ++c) {
      T* slot = &zs[(bh * nc + c) * K2P];
      std::copy(slot, slot + K2P, zc.begin());
      std::copy(Z.begin(), Z.end(), slot);
      pass_state(hd, &ds[(bh * nc + c) * ng], zc.data(), Z.data());
    }
    call.store_final(bh, Z.data());
  });
  pool.run_tasks(BH * nc, [&](int64_t task) {
    const int64_t bh = task / nc, c = task % nc, c0 = c * C, c1 = std::min(T_, c0 + C);
    const auto hd = call.head(bh);
    for (int64_t r0 = c0; r0 < c1; r0 += sub) emit_rows(hd, c0, r0, std::min(c1, r0 + sub), &zs[task * K2P]);
  });
}

template <class T, bool kVec, bool kCplx>
void run_quadratic(core::ThreadPool& pool, const GrProblem<T>& pr) {
  Call<T, kVec, kCplx> call(pr);
  call.prepare(pool);
  const int64_t BH = pr.d.B * call.H, T_ = pr.d.T, sub = row_block(kVec), nrb = (T_ + sub - 1) / sub;
  const int64_t K2P = call.K2 * call.P;
  // Task nrb of each head computes the final state; the others one row block each, from z0.
  pool.run_tasks(BH * (nrb + 1), [&](int64_t task) {
    const int64_t bh = task / (nrb + 1), rb = task % (nrb + 1);
    const auto hd = call.head(bh);
    const T* z0 = &call.z0[bh * K2P];
    if (rb < nrb) {
      emit_rows(hd, 0, rb * sub, std::min(T_, (rb + 1) * sub), z0);
      return;
    }
    std::vector<T> Z(z0, z0 + K2P), zc(K2P), D(call.ng);
    chunk_state(hd, 0, T_, zc.data(), D.data());
    pass_state(hd, D.data(), zc.data(), Z.data());
    call.store_final(bh, Z.data());
  });
}

}  // namespace

void gated_recurrence_chunked(core::ThreadPool& pool, const GatedRecurrenceArgs& args, const detail::GrDims& d,
                              RecurrenceMode mode) {
  gr_dispatch(d, [&]<class T, bool kVec, bool kCplx>() {
    const GrProblem<T> pr(args, d);
    if (mode == RecurrenceMode::kChunked) {
      run_chunked<T, kVec, kCplx>(pool, pr);
    } else {
      run_quadratic<T, kVec, kCplx>(pool, pr);
    }
  });
}

}  // namespace llamba::ops::cpu
