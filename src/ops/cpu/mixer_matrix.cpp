// mixer_matrix on the CPU: fp32, the O(T²·N) inner products as GEMMs (gemm_acc_f32) over row blocks of each
// head's lower triangle. The decay exponent of row t is the running sum Σ_{j=s+1..t} log_decay_j kept for every
// s, grown by log_decay_t from row t−1's (a pairwise sum, as the reference's: no difference of global cumsums).
// Forward in (head, row block) tasks; backward in head tasks into per-head scratch that is then summed over each
// group's heads in a fixed order (deterministic for any thread count). Backward convention: every gradient
// output is accumulated into (+=), each element added once.
#include "ops/mixer_matrix.h"

#include <algorithm>
#include <vector>

#include "ops/cpu/gemm.h"
#include "ops/cpu/simd_loops.h"
#include "ops/mixer_matrix_impl.h"

namespace llamba::ops::cpu {

namespace {

constexpr int64_t kRows = 32;  // rows per block: a block's GEMMs read only the columns its triangle needs

// kT[g] (N × T) = k[:, g, :]ᵀ, the right operand of Q Kᵀ.
std::vector<float> transpose_keys(const float* k, int64_t T, int64_t G, int64_t N) {
  std::vector<float> kt((size_t)(G * N * T));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t n = 0; n < N; ++n) kt[(g * N + n) * T + t] = k[(t * G + g) * N + n];
  return kt;
}

// seg[s] = Σ_{j=s+1..t} log_decay_j[h] for s <= t, for the first row t of a block (later rows grow it in place).
void start_segment(std::vector<float>& seg, const float* ld, int64_t H, int64_t h, int64_t t) {
  seg[(size_t)t] = 0;
  for (int64_t s = t - 1; s >= 0; --s) seg[(size_t)s] = seg[(size_t)s + 1] + ld[(s + 1) * H + h];
}

// seg of row t from row t − 1's.
void grow_segment(std::vector<float>& seg, const float* ld, int64_t H, int64_t h, int64_t t) {
  const float a = ld[t * H + h];
  for (int64_t s = 0; s < t; ++s) seg[(size_t)s] += a;
  seg[(size_t)t] = 0;
}

}  // namespace

void mixer_matrix_forward(core::ThreadPool& pool, const core::TensorView& m, const core::TensorView& q,
                          const core::TensorView& k, const core::TensorView& log_decay, const core::TensorView& d,
                          float scale) {
  detail::check_mixer_matrix(m, q, k, log_decay, d);
  const int64_t T = q.size(0), G = q.size(1), N = q.size(2), H = log_decay.size(1), per = H / G;
  const std::vector<float> kt = transpose_keys(k.f32(), T, G, N);
  const float* ld = log_decay.f32();
  const int64_t blocks = (T + kRows - 1) / kRows;
  pool.run_tasks(H * blocks, [&](int64_t task) {
    const int64_t h = task / blocks, g = h / per, t0 = task % blocks * kRows, t1 = std::min(T, t0 + kRows);
    float* rows = m.f32() + (h * T + t0) * T;
    std::fill(rows, rows + (t1 - t0) * T, 0.0f);
    gemm_acc_f32(t1 - t0, t1, N, q.f32() + (t0 * G + g) * N, G * N, &kt[(size_t)(g * N * T)], T, rows, T);
    std::vector<float> seg((size_t)T);
    start_segment(seg, ld, H, h, t0);
    for (int64_t t = t0; t < t1; ++t) {
      if (t > t0) grow_segment(seg, ld, H, h, t);
      float* row = m.f32() + (h * T + t) * T;
      for (int64_t s = 0; s <= t; ++s) row[s] = scale * row[s] * exp_nonpos(seg[(size_t)s]);
      std::fill(row + t + 1, row + t1, 0.0f);  // the block's GEMM also wrote above the diagonal
      if (d.data) row[t] += d.f32()[h];
    }
  });
}

void mixer_matrix_backward(core::ThreadPool& pool, const core::TensorView& dq, const core::TensorView& dk,
                           const core::TensorView& dlog_decay, const core::TensorView& dd, const core::TensorView& dm,
                           const core::TensorView& q, const core::TensorView& k, const core::TensorView& log_decay,
                           float scale) {
  detail::check_mixer_matrix_backward(dq, dk, dlog_decay, dd, dm, q, k, log_decay);
  const int64_t T = q.size(0), G = q.size(1), N = q.size(2), H = log_decay.size(1), per = H / G;
  const std::vector<float> kt = transpose_keys(k.f32(), T, G, N);
  const float* ld = log_decay.f32();
  std::vector<float> dqh(H * T * N, 0.0f), dkh(H * T * N, 0.0f);
  std::vector<double> dlh(H * T, 0.0), ddh(H, 0.0);
  // Per head, with W[t, s] = scale · dm[t, s] · exp(seg_t[s]) (s <= t, else 0) and S = Q Kᵀ:
  //   dq_h = W K,  dk_h = Wᵀ Q,  dlog_decay_j = Σ_{t>=j} Σ_{s<j} W[t, s] S[t, s],  dd = Σ_t dm[t, t].
  pool.run_tasks(H, [&](int64_t h) {
    const int64_t g = h / per;
    const float* qg = q.f32() + g * N;  // row t at qg + t·G·N
    const float* kg = k.f32() + g * N;
    std::vector<float> w((size_t)(T * T), 0.0f), wt((size_t)(T * T), 0.0f), s_qk((size_t)(T * T), 0.0f),
        seg((size_t)T);
    for (int64_t t0 = 0; t0 < T; t0 += kRows) {
      const int64_t t1 = std::min(T, t0 + kRows);
      gemm_acc_f32(t1 - t0, t1, N, qg + t0 * G * N, G * N, &kt[(size_t)(g * N * T)], T, &s_qk[(size_t)(t0 * T)], T);
    }
    double* dlr = dlh.data() + h * T;
    for (int64_t t = 0; t < T; ++t) {
      if (t == 0) {
        start_segment(seg, ld, H, h, 0);
      } else {
        grow_segment(seg, ld, H, h, t);
      }
      const float* dmr = dm.f32() + (h * T + t) * T;
      float* wr = &w[(size_t)(t * T)];
      const float* sr = &s_qk[(size_t)(t * T)];
      double prefix = 0;  // Σ_{s<j} W[t, s] S[t, s]
      for (int64_t s = 0; s <= t; ++s) {
        wr[s] = scale * dmr[s] * exp_nonpos(seg[(size_t)s]);
        wt[(size_t)(s * T + t)] = wr[s];
        if (s < t) {
          prefix += (double)(wr[s] * sr[s]);
          dlr[s + 1] += prefix;
        }
      }
      ddh[h] += (double)dmr[t];
    }
    float* dq_h = dqh.data() + h * T * N;
    float* dk_h = dkh.data() + h * T * N;
    for (int64_t t0 = 0; t0 < T; t0 += kRows) {
      const int64_t t1 = std::min(T, t0 + kRows);
      // dq rows t0..t1 read W's columns s < t1; dk rows t0..t1 read Wᵀ's columns t >= t0.
      gemm_acc_f32(t1 - t0, N, t1, &w[(size_t)(t0 * T)], T, kg, G * N, dq_h + t0 * N, N);
      gemm_acc_f32(t1 - t0, N, T - t0, &wt[(size_t)(t0 * T + t0)], T, qg + t0 * G * N, G * N, dk_h + t0 * N, N);
    }
  });
  pool.parallel_for(T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t g = 0; g < G; ++g)
        for (int64_t n = 0; n < N; ++n) {
          float sq = 0, sk = 0;
          for (int64_t h = g * per; h < (g + 1) * per; ++h) {
            sq += dqh[(h * T + t) * N + n];
            sk += dkh[(h * T + t) * N + n];
          }
          if (dq.data) dq.f32()[(t * G + g) * N + n] += sq;
          if (dk.data) dk.f32()[(t * G + g) * N + n] += sk;
        }
      if (dlog_decay.data)
        for (int64_t h = 0; h < H; ++h) dlog_decay.f32()[t * H + h] += (float)dlh[h * T + t];
    }
  });
  if (dd.data)
    for (int64_t h = 0; h < H; ++h) dd.f32()[h] += (float)ddh[h];
}

}  // namespace llamba::ops::cpu
