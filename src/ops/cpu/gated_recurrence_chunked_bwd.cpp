// CPU gated_recurrence backward, kChunked: the chunked forward's real kernel (key dimension K2 = N, or 2N for
// complex gates through the rotation reduction) run in reverse. Gradients are ACCUMULATED (+=) into the outputs;
// callers zero them. The chunk states are recomputed here (chunk_state + pass_state, as the forward does), so
// the caller keeps nothing but the forward's inputs.
//
// Passes (threaded like the forward): (1) chunk states Z_in(c) in the absolute frame; (2) per chunk
// E_c = Σ_l exp(Σ_{j=c0..l} g_j) q̃_l ⊗ dY_l, dY = scale·dy; (3) per head, right to left, the reverse state
// passing dZ_in(c) = exp(Σ_c g) ⊙ dZ_out(c) + E_c, dZ_out(last) = dstate_out in the frame Θ_{T−1};
// (4) per (batch, group, chunk), for every head of the group, with Z_in, dZ_out of the chunk:
//   dq̃_l = Σ_{m<=l} (dY_l·v_m) M_lm ⊙ k̃_m + exp(Σ_{c0..l} g) ⊙ Z_in dY_l
//   dk̃_m = Σ_{l>=m} (dY_l·v_m) M_lm ⊙ q̃_l + exp(Σ_{m<j<c1} g) ⊙ dZ_out v_m
//   dv_m  = Σ_{l>=m} (q̃_l·(M_lm ⊙ k̃_m)) dY_l + (k̃_m ⊙ exp(Σ_{m<j<c1} g))·dZ_out
// with M_lm = exp(Σ_{m<j<=l} g) built like the forward (row blocks, factors referred to the block start, both
// <= 1; elementwise inside a block), then the chain rule through the rotation to dq, dk and
//   g_{Λ_l} = (q̃·dq̃ − k̃·dk̃) + i (q̃⊥·dq̃ + k̃⊥·dk̃) + [l = c1 − 1] Σ_p (dZ_out·Z_out + i (dZc Z_s − dZs Z_c))
// (q̃⊥ = ∂q̃/∂Θ, per key channel, halves summed), Λ_l = Σ_{j=c0..l} log a_j the chunk-local cumulative gate:
// g_{log a_j} = Σ_{l=j..c1−1} g_{Λ_l}, a reverse cumsum of at most `chunk` terms in fp64 (never over all T: the
// terms cancel to an O(1) result, so a global sum would lose ~eps·T). The chunk-end term carries the gradient of
// every later step, which the reverse state passing already holds in dZ_out. The products above are formed
// without the self pairs (l, l) and the chunk-end term without the last step's own input (Zpre instead of
// Z_out): those parts cancel exactly and, with strong decays, would swamp the O(|a|) result in fp32 noise.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/gated_recurrence_chunked.h"

namespace llamba::ops::cpu {
namespace {

using namespace gr_chunked;  // NOLINT: the forward's kernel pieces

// out (c × r) = in (r × c, row stride ld)ᵀ
template <class T>
void transpose(int64_t r, int64_t c, const T* in, int64_t ld, T* out) {
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) out[j * r + i] = in[i * ld + j];
}

// y[i] += d[i % n or 0] · x[i], i < K2: a per-key-channel factor (both halves) or one per head.
template <class T, bool kVec>
void scale_add(int64_t K2, int64_t N, const T* d, const T* x, T* y) {
  for (int64_t i = 0; i < K2; ++i) y[i] += d[kVec ? i % N : 0] * x[i];
}

// Gradients of one chunk [c0, c1) of one head, accumulated in the chunk-local buffers below, then written out.
template <class T, bool kVec, bool kCplx>
struct ChunkGrad {
  const Head<T, kVec, kCplx>& hd;
  const GrGrads<T>& gr;
  int64_t c0, c1, C, K2, N, P, ng;
  std::vector<T> dY;      // (C, P)   scale · dy
  std::vector<T> dQ, dK;  // (C, K2)  ∂L/∂q̃, ∂L/∂k̃ (undecayed rotated operands, absolute frame) ...
  std::vector<T> sQ, sK;  // (C, K2)  ... less their self terms, kept here (see below)
  std::vector<T> dV;      // (C, P)
  std::vector<T> Zpre;    // (K2, P)  |a_{c1−1}| ⊙ Z_{c1−2}: the chunk's end state less its last input

  ChunkGrad(const Head<T, kVec, kCplx>& h, const GrGrads<T>& g, int64_t c0_, int64_t c1_)
      : hd(h), gr(g), c0(c0_), c1(c1_), C(c1_ - c0_), K2(h.K2), N(h.N), P(h.P), ng(h.ng) {
    dY.resize(C * P), dQ.assign(C * K2, T(0)), dK.assign(C * K2, T(0)), dV.assign(C * P, T(0));
    sQ.assign(C * K2, T(0)), sK.assign(C * K2, T(0));
    const T scale = (T)hd.pr.scale;
    for (int64_t l = 0; l < C; ++l) {
      const T* dy = gr.dy_row(hd.b, c0 + l, hd.h);
      for (int64_t p = 0; p < P; ++p) dY[l * P + p] = scale * dy[p];
    }
  }

  // Rows [r0, r1) against the columns [c0, r0) of earlier row blocks, in tiles right to left, with q̂ = q̃ ⊙
  // exp(Σ_{r0..l}) (Qh, factors eq) and k̂ = k̃ ⊙ exp(Σ_{m<j<r0}) both <= 1; the rows' gradient w.r.t. q̂ goes
  // to dQh. Leaves in x (ng) Σ_{j=c0..r0−1} log|a_j| (refers the rows to c0).
  void off_diagonal(int64_t r0, int64_t r1, const T* Qh, T* dQh, double* x) {
    const int64_t rows = r1 - r0;
    std::fill(x, x + ng, 0.0);
    if (r0 == c0) return;
    std::vector<T> KT(K2 * kColTile), Kh(kColTile * K2), ek(kColTile * ng), Vt(P * kColTile);
    std::vector<T> A(rows * kColTile), At(kColTile * rows), dP(rows * kColTile), dPt(kColTile * rows);
    std::vector<T> dKh(kColTile * K2);
    const T* dYr = &dY[(r0 - c0) * P];
    for (int64_t s1 = r0, s0; s1 > c0; s1 = s0) {
      s0 = std::max(c0, s1 - kColTile);
      const int64_t w = s1 - s0;
      build_kT(hd, s0, s1, x, KT.data(), w, ek.data());
      transpose(K2, w, KT.data(), w, Kh.data());
      transpose(w, P, hd.v(s0), hd.v_ld(), Vt.data());
      std::fill(A.begin(), A.begin() + rows * w, T(0));
      std::fill(dP.begin(), dP.begin() + rows * w, T(0));
      std::fill(dKh.begin(), dKh.begin() + w * K2, T(0));
      gemm_acc(rows, w, K2, Qh, K2, KT.data(), w, A.data(), w);     // A = Q̂ K̂ᵀ
      gemm_acc(rows, w, P, dYr, P, Vt.data(), w, dP.data(), w);     // dP = dY Vᵀ
      gemm_acc(rows, K2, w, dP.data(), w, Kh.data(), K2, dQh, K2);  // dQ̂ += dP K̂
      transpose(rows, w, dP.data(), w, dPt.data());
      gemm_acc(w, K2, rows, dPt.data(), rows, Qh, K2, dKh.data(), K2);  // dK̂ = dPᵀ Q̂
      transpose(rows, w, A.data(), w, At.data());
      gemm_acc(w, P, rows, At.data(), rows, dYr, P, &dV[(s0 - c0) * P], P);  // dV += Aᵀ dY
      for (int64_t m = 0; m < w; ++m) scale_add<T, kVec>(K2, N, &ek[m * ng], &dKh[m * K2], &dK[(s0 - c0 + m) * K2]);
    }
  }

  // Rows and columns [r0, r1), the mask elementwise: M_ts = exp(Σ_{s<j<=t} log|a_j|) (t >= s), per key channel
  // for vector gates (running products of |a| <= 1, like the forward), one per head for scalar gates.
  void diagonal(int64_t r0, int64_t r1) {
    const int64_t rows = r1 - r0, o = r0 - c0;
    std::vector<T> QR(rows * K2), KR(rows * K2), Vt(P * rows), dP(rows * rows, T(0));
    for (int64_t t = 0; t < rows; ++t) {
      hd.rotate(r0 + t, hd.q(r0 + t), &QR[t * K2]);
      hd.rotate(r0 + t, hd.k(r0 + t), &KR[t * K2]);
    }
    transpose(rows, P, hd.v(r0), hd.v_ld(), Vt.data());
    gemm_acc(rows, rows, P, &dY[o * P], P, Vt.data(), rows, dP.data(), rows);  // dP = dY Vᵀ
    if constexpr (!kVec) {                                                     // matmuls with the masked C×C matrices
      std::vector<T> KRt(K2 * rows), S(rows * rows, T(0)), m(rows), St(rows * rows), dPt(rows * rows);
      transpose(rows, K2, KR.data(), K2, KRt.data());
      gemm_acc(rows, rows, K2, QR.data(), K2, KRt.data(), rows, S.data(), rows);
      for (int64_t t = 0; t < rows; ++t) {
        double seg = 0;
        for (int64_t s = t; s >= 0; --s) m[s] = (T)seg, seg += hd.g(r0 + s, 0);
        exp_nonpos_inplace(t + 1, m.data());
        for (int64_t s = 0; s < rows; ++s) {
          const T ms = s <= t ? m[s] : T(0);
          S[t * rows + s] *= ms, dP[t * rows + s] *= ms;
        }
        const T dp = dP[t * rows + t];  // the self term (mask 1): to sQ / sK
        loop_axpy(K2, dp, &KR[t * K2], &sQ[(o + t) * K2]);
        loop_axpy(K2, dp, &QR[t * K2], &sK[(o + t) * K2]);
        dP[t * rows + t] = T(0);
      }
      gemm_acc(rows, K2, rows, dP.data(), rows, KR.data(), K2, &dQ[o * K2], K2);  // dQ += (dP⊙M) K
      transpose(rows, rows, dP.data(), rows, dPt.data());
      gemm_acc(rows, K2, rows, dPt.data(), rows, QR.data(), K2, &dK[o * K2], K2);  // dK += (dP⊙M)ᵀ Q
      transpose(rows, rows, S.data(), rows, St.data());
      gemm_acc(rows, P, rows, St.data(), rows, &dY[o * P], P, &dV[o * P], P);  // dV += (S⊙M)ᵀ dY
    } else {
      std::vector<T> dec(rows * N), e(K2), qe(K2);
      for (int64_t t = 0; t < rows; ++t) {
        const T* g = hd.pr.g_row(hd.b, r0 + t, hd.h);
        std::copy(g, g + N, &dec[t * N]);
      }
      exp_nonpos_inplace(rows * N, dec.data());
      for (int64_t t = 0; t < rows; ++t) {
        std::fill(e.begin(), e.end(), T(1));  // e = Π_{j=s+1..t} |a_j| on both halves
        const T* qt = &QR[t * K2];
        T* dqt = &dQ[(o + t) * K2];
        for (int64_t s = t; s >= 0; --s) {
          const T* ks = &KR[s * K2];
          const T dp = dP[t * rows + s];
          for (int64_t i = 0; i < K2; ++i) qe[i] = qt[i] * e[i];
          const T a = loop_dot(K2, qe.data(), ks);
          loop_axpy(P, a, &dY[(o + t) * P], &dV[(o + s) * P]);
          if (s == t) {  // the self term (e = 1): to sQ / sK
            loop_axpy(K2, dp, qt, &sK[(o + s) * K2]);
            loop_axpy(K2, dp, ks, &sQ[(o + t) * K2]);
          } else {
            loop_axpy(K2, dp, qe.data(), &dK[(o + s) * K2]);
            for (int64_t i = 0; i < K2; ++i) dqt[i] += dp * (ks[i] * e[i]);
          }
          const T* d = &dec[s * N];
          for (int64_t i = 0; i < K2; ++i) e[i] *= d[i % N];
        }
      }
    }
  }

  // All intra-chunk terms and the Z_in term, row block by row block.
  void rows_terms(const T* Zin) {
    const int64_t sub = row_block(kVec);
    std::vector<T> ZinT(P * K2), tmp;
    transpose(K2, P, Zin, P, ZinT.data());
    std::vector<double> x(ng);
    std::vector<T> ex(ng);
    for (int64_t r0 = c0; r0 < c1; r0 += sub) {
      const int64_t r1 = std::min(c1, r0 + sub), rows = r1 - r0;
      std::vector<T> Qh(rows * K2), eq(rows * ng), dQh(rows * K2, T(0));
      build_q(hd, r0, r1, Qh.data(), eq.data());
      off_diagonal(r0, r1, Qh.data(), dQh.data(), x.data());
      tmp.assign(rows * K2, T(0));  // Z_in term: ∂/∂q̂_l of (q̂_l ⊙ exp(x))·Z_in dY_l
      gemm_acc(rows, K2, P, &dY[(r0 - c0) * P], P, ZinT.data(), K2, tmp.data(), K2);
      for (int64_t n = 0; n < ng; ++n) ex[n] = (T)x[n];
      exp_nonpos_inplace(ng, ex.data());
      for (int64_t t = 0; t < rows; ++t) scale_add<T, kVec>(K2, N, ex.data(), &tmp[t * K2], &dQh[t * K2]);
      for (int64_t t = 0; t < rows; ++t)  // q̂ = q̃ ⊙ eq: back to q̃
        scale_add<T, kVec>(K2, N, &eq[t * ng], &dQh[t * K2], &dQ[(r0 - c0 + t) * K2]);
      diagonal(r0, r1);
    }
  }

  // The chunk-end state's gradient dZo (K2 × P) into dk̃ and dv through k̂_m = k̃_m ⊙ exp(Σ_{m<j<c1} log|a_j|)
  // (the last step's term, with factor 1, is a self term: to sK). Also Zpre = exp(Σ_{c0..c1−1}) ⊙ Z_in +
  // Σ_{m<c1−1} k̂_m ⊗ v_m, for the chunk-end gate term.
  void end_terms(const T* Zin, const T* dZo) {
    std::vector<T> KT(K2 * C), Kh(C * K2), ew(C * ng), dZoT(P * K2), tmp(C * K2, T(0)), D(ng);
    std::vector<double> run(ng, 0.0);
    build_kT(hd, c0, c1, run.data(), KT.data(), C, ew.data());
    transpose(K2, C, KT.data(), C, Kh.data());
    gemm_acc(C, P, K2, Kh.data(), K2, dZo, P, dV.data(), P);  // dV += K̂ dZo
    transpose(K2, P, dZo, P, dZoT.data());
    gemm_acc(C, K2, P, hd.v(c0), hd.v_ld(), dZoT.data(), K2, tmp.data(), K2);  // V dZoᵀ
    for (int64_t m = 0; m + 1 < C; ++m) scale_add<T, kVec>(K2, N, &ew[m * ng], &tmp[m * K2], &dK[m * K2]);
    loop_axpy(K2, T(1), &tmp[(C - 1) * K2], &sK[(C - 1) * K2]);
    for (int64_t n = 0; n < ng; ++n) D[n] = (T)run[n];  // run = Σ_{j=c0..c1−1} log|a_j|
    exp_nonpos_inplace(ng, D.data());
    std::vector<T> inputs(K2 * P, T(0));
    gemm_acc(K2, P, C - 1, KT.data(), C, hd.v(c0), hd.v_ld(), inputs.data(), P);
    Zpre.assign(Zin, Zin + K2 * P);
    pass_state(hd, D.data(), inputs.data(), Zpre.data());  // Zpre = D ⊙ Z_in + inputs
  }

  // Chain rule through the rotation to dq, dk; dv; and the gate gradients by the chunk-local reverse cumsum.
  // The gate terms use dQ, dK without the self terms sQ, sK: those cancel exactly in q̃·dq̃ − k̃·dk̃ (and in the
  // ⊥ products), and with strong decays they dominate both products, so leaving them in would turn a result
  // O(|a|) smaller than the terms into fp32 cancellation noise. Likewise the chunk-end term uses Zpre:
  // Σ_p dZo ⊙ conj(Z_out) less the last step's own input, which the last k̃·dk̃ would cancel.
  void write_out(const T* dZo) {
    std::vector<double> gre(C * ng, 0.0), gim(C * ng, 0.0);
    for (int64_t l = 0; l < C; ++l) {
      const int64_t t = c0 + l;
      const T* q = hd.q(t);
      const T* k = hd.k(t);
      const T* dq_ = &dQ[l * K2];
      const T* dk_ = &dK[l * K2];
      const T* sq = &sQ[l * K2];
      const T* sk = &sK[l * K2];
      T* dq = gr.dq_row(hd.b, t, hd.h);
      T* dk = gr.dk_row(hd.b, t, hd.h);
      double* re = &gre[l * ng];
      double* im = &gim[l * ng];
      for (int64_t n = 0; n < N; ++n) {
        const int64_t gi = kVec ? n : 0;
        if constexpr (kCplx) {
          const T c = hd.rot_c[t * ng + gi], s = hd.rot_s[t * ng + gi];
          const T gq = dq_[n] * c + dq_[N + n] * s, gk = dk_[n] * c + dk_[N + n] * s;
          if (dq) dq[n] += gq + (sq[n] * c + sq[N + n] * s);
          if (dk) dk[n] += gk + (sk[n] * c + sk[N + n] * s);
          // q̃·dq̃ = q·(c dq̃_c + s dq̃_s) = q·gq;  q̃⊥·dq̃ = q·(c dq̃_s − s dq̃_c)
          re[gi] += (double)q[n] * gq - (double)k[n] * gk;
          im[gi] += (double)q[n] * (c * dq_[N + n] - s * dq_[n]) + (double)k[n] * (c * dk_[N + n] - s * dk_[n]);
        } else {
          if (dq) dq[n] += dq_[n] + sq[n];
          if (dk) dk[n] += dk_[n] + sk[n];
          re[gi] += (double)q[n] * dq_[n] - (double)k[n] * dk_[n];
        }
      }
      if (T* dv = gr.dv_row(hd.b, t, hd.h)) loop_axpy(P, T(1), &dV[l * P], dv);
    }
    double* re = &gre[(C - 1) * ng];  // the chunk end: g_{Λ_last} += Σ_p dZo ⊙ conj(Zpre), per key channel
    double* im = &gim[(C - 1) * ng];
    for (int64_t n = 0; n < N; ++n) {
      const int64_t gi = kVec ? n : 0;
      for (int64_t p = 0; p < P; ++p) {
        const double zc = Zpre[n * P + p], dzc = dZo[n * P + p];
        if constexpr (kCplx) {
          const double zs = Zpre[(N + n) * P + p], dzs = dZo[(N + n) * P + p];
          re[gi] += dzc * zc + dzs * zs;
          im[gi] += dzc * zs - dzs * zc;
        } else {
          re[gi] += dzc * zc;
        }
      }
    }
    std::vector<double> run_re(ng, 0.0), run_im(ng, 0.0);
    for (int64_t l = C - 1; l >= 0; --l) {
      const int64_t t = c0 + l;
      const T* g = hd.pr.g_row(hd.b, t, hd.h);
      T* dg = gr.dg_row(hd.b, t, hd.h);
      T* dth = kCplx ? gr.dth_row(hd.b, t, hd.h) : nullptr;
      for (int64_t i = 0; i < ng; ++i) {
        run_re[i] += gre[l * ng + i], run_im[i] += gim[l * ng + i];
        // a = 0 (−inf) gets exactly 0 (∂a/∂log a = a), where the cumsum would leave rounding noise of terms
        // that cancel across the reset; clamped magnitudes (> 0) get no dlog_decay, the phase still acts.
        if (std::isinf(g[i])) continue;
        if (dg && !(g[i] > T(0))) dg[i] += (T)run_re[i];
        if (dth) dth[i] += (T)run_im[i];
      }
    }
  }
};

template <class T, bool kVec, bool kCplx>
void run_chunked_backward(core::ThreadPool& pool, const GrProblem<T>& pr, const GrGrads<T>& gr) {
  Call<T, kVec, kCplx> call(pr);
  call.prepare(pool);
  const int64_t B = pr.d.B, H = call.H, G = pr.d.G, hpg = gr.hpg, BH = B * H, T_ = pr.d.T, C = pr.chunk;
  const int64_t nc = (T_ + C - 1) / C, N = call.N, P = call.P, K2 = call.K2, K2P = K2 * P, ng = call.ng;
  // (1) Chunk states: zs slot c of head bh holds Z_in(c), slot nc the final state.
  std::vector<T> zs(BH * (nc + 1) * K2P), ds(BH * nc * ng), dzs(BH * nc * K2P, T(0));
  auto zslot = [&](int64_t bh, int64_t c) { return &zs[(bh * (nc + 1) + c) * K2P]; };
  pool.run_tasks(BH * nc, [&](int64_t task) {
    const int64_t bh = task / nc, c = task % nc;
    chunk_state(call.head(bh), c * C, std::min(T_, (c + 1) * C), zslot(bh, c), &ds[task * ng]);
  });
  pool.run_tasks(BH, [&](int64_t bh) {
    const auto hd = call.head(bh);
    std::vector<T> Z(&call.z0[bh * K2P], &call.z0[(bh + 1) * K2P]), zc(K2P);
    for (int64_t c = 0; c < nc; ++c) {
      std::copy(zslot(bh, c), zslot(bh, c) + K2P, zc.begin());
      std::copy(Z.begin(), Z.end(), zslot(bh, c));
      pass_state(hd, &ds[(bh * nc + c) * ng], zc.data(), Z.data());
    }
    std::copy(Z.begin(), Z.end(), zslot(bh, nc));
  });
  // (2) E_c = Q̂ᵀ dY with q̂_l = q̃_l ⊙ exp(Σ_{c0..l} g): the chunk's own gradient for the state entering it.
  pool.run_tasks(BH * nc, [&](int64_t task) {
    const int64_t bh = task / nc, c = task % nc, c0 = c * C, c1 = std::min(T_, c0 + C), w = c1 - c0;
    const auto hd = call.head(bh);
    std::vector<T> Qh(w * K2), QhT(K2 * w), dY(w * P);
    build_q(hd, c0, c1, Qh.data());
    transpose(w, K2, Qh.data(), K2, QhT.data());
    for (int64_t l = 0; l < w; ++l) {
      const T* dy = gr.dy_row(hd.b, c0 + l, hd.h);
      for (int64_t p = 0; p < P; ++p) dY[l * P + p] = (T)pr.scale * dy[p];
    }
    gemm_acc(K2, P, w, QhT.data(), w, dY.data(), P, &dzs[task * K2P], P);
  });
  // (3) Reverse state passing; dzs slot c becomes dZ_out(c). dstate_out enters in the frame Θ_{T−1}.
  pool.run_tasks(BH, [&](int64_t bh) {
    const int64_t b = bh / H, h = bh % H;
    const auto hd = call.head(bh);
    std::vector<T> dZ(K2P, T(0)), e(K2P);
    for (int64_t p = 0; p < P; ++p) {
      const T* re = gr.dso_row(b, h, p);
      const T* im = gr.dso_im_row(b, h, p);
      for (int64_t n = 0; n < N; ++n) {
        const double r = re ? (double)re[n] : 0.0, i = im ? (double)im[n] : 0.0;
        if constexpr (kCplx) {  // zc − i·zs = e^{−iΘ}(r + i·i)
          const double th = call.theta_end[bh * ng + (kVec ? n : 0)], c = std::cos(th), s = std::sin(th);
          dZ[n * P + p] = (T)(c * r + s * i);
          dZ[(N + n) * P + p] = (T)(s * r - c * i);
        } else {
          dZ[n * P + p] = (T)r;
        }
      }
    }
    for (int64_t c = nc - 1; c >= 0; --c) {
      T* slot = &dzs[(bh * nc + c) * K2P];
      std::copy(slot, slot + K2P, e.begin());
      std::copy(dZ.begin(), dZ.end(), slot);
      pass_state(hd, &ds[(bh * nc + c) * ng], e.data(), dZ.data());
    }
    for (int64_t p = 0; p < P; ++p) {  // g_{h_{−1}} = dZc − i·dZs at Θ = 0
      T* re = gr.dsi_row(b, h, p);
      T* im = gr.dsi_im_row(b, h, p);
      for (int64_t n = 0; n < N; ++n) {
        if (re) re[n] += dZ[n * P + p];
        if (kCplx && im) im[n] -= dZ[(N + n) * P + p];
      }
    }
  });
  // (4) Per (batch, group, chunk): the heads of a group write the same dq / dk rows, so one task owns them all.
  pool.run_tasks(B * G * nc, [&](int64_t task) {
    const int64_t bg = task / nc, c = task % nc, b = bg / G, grp = bg % G, c0 = c * C, c1 = std::min(T_, c0 + C);
    for (int64_t h = grp * hpg; h < (grp + 1) * hpg; ++h) {
      const int64_t bh = b * H + h;
      const auto hd = call.head(bh);
      ChunkGrad<T, kVec, kCplx> cg(hd, gr, c0, c1);
      cg.rows_terms(zslot(bh, c));
      const T* dZo = &dzs[(bh * nc + c) * K2P];
      cg.end_terms(zslot(bh, c), dZo);
      cg.write_out(dZo);
    }
  });
}

}  // namespace

void gated_recurrence_chunked_backward(core::ThreadPool& pool, const GatedRecurrenceBackwardArgs& args,
                                       const detail::GrDims& d) {
  const GatedRecurrenceArgs fwd = detail::gr_backward_as_forward(args);
  gr_dispatch(d, [&]<class T, bool kVec, bool kCplx>() {
    const GrProblem<T> pr(fwd, d);
    const GrGrads<T> gr(args, d);
    run_chunked_backward<T, kVec, kCplx>(pool, pr, gr);
  });
}

}  // namespace llamba::ops::cpu
