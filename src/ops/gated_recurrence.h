// The gated linear recurrence (GateLoop / Mamba-2 / Discrete Mamba-2 / GLA): declarations, shapes and the
// numerical contract. fp32/fp64 CPU paths live in ops/cpu/gated_recurrence*.cpp, the fp64 oracle in
// ops/ref/gated_recurrence*.cpp. D-skip, gating, norms, Δ-scaling of v and the conv belong to the models.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// Per batch row b and head h (group g = h / (H / G)), with state h_t ∈ C^{P×N} (value-major, like Mamba):
//   a_t      = exp(log_decay_t + i·phase_t)                       scalar per head, or one per key channel n
//   h_t[p,n] = a_t[n] · h_{t−1}[p,n] + v_t[p] · k_t[n]           (no conjugation anywhere)
//   y_t[p]   = scale · Σ_n q_t[n] · Re(h_t[p,n])
// h_{−1} = state_in (+ i·state_in_im), zero when absent; state_out = h_{T−1}.
//
// Modes (all compute the same function; they differ in cost and rounding):
//   kRecurrent  O(T·P·N) per head: the loop above; the decode path.
//   kScan       the associative scan with (a_i, s_i)•(a_j, s_j) = (a_j a_i, a_j ⊙ s_i + s_j).
//               ref: Hillis–Steele over all T states, work O(T log T · P·N), depth O(log T), memory O(T·P·N).
//               cpu: blocked reduce-then-scan threaded over time (one block per thread): each block folds
//               the operator from the identity, block carries are combined left to right, then every block
//               re-runs from its carry. Work 2·T·P·N, depth 2·T/p + p (p = pool size), memory O(p·P·N).
//   kQuadratic  surrogate attention O(T²·(N + P)): Y = Re((Q Kᵀ ⊙ M) V) with the decay mask M built in log
//               space from segment sums, plus the initial-state term; never divides cumulative products.
//               cpu: threaded over (b, h, row blocks of 64 rows, 16 for vector gates); memory O(rows·T).
//   kChunked    SSD/GLA chunks of `chunk` steps: intra-chunk attention, chunk states, inter-chunk passing.
//               O(T·chunk·(N + P) + T·P·N). Starts from any initial state; `chunk` need not divide T.
//               cpu: three passes threaded over (b, h, chunk) / (b, h) / (b, h, chunk); the state entering
//               every chunk is kept (B·H·⌈T/chunk⌉·P·N values, ×2 for complex gates: large for chunk = 1),
//               which is what the backward (gated_recurrence_backward, later) will reuse.
//
// Numerical contract (gateloop.md §4.5), identical in every mode and backend:
//   - log_decay must be <= 0 (|a| <= 1); larger values are clamped to 0. −inf (a = 0) is a clean reset:
//     the state before it is dropped exactly, never producing NaN.
//   - Decay exponents are sums of non-positive terms (segment sums, chunk-local running sums); they are never
//     formed as differences of cumulative sums, so nothing overflows and −inf − (−inf) never happens (inside
//     a cpu row block of <= 16 steps, vector-gate decays are running products of |a_j| <= 1, never divided).
//     Long sums (phases, decays referred across many steps) are accumulated in fp64.
//   - The cpu chunked/quadratic modes handle complex gates by the rotation reduction to a real kernel with
//     2N keys (gateloop.md §5): absolute phases are accumulated in fp64 and wrapped mod 2π before cos/sin.
//     The ref chunked mode keeps the state complex and uses chunk-local phases.
//
// Tensors (PyTorch order; strides in elements; all views of one call share one dtype, f32 or f64). The cpu
// backend needs the innermost dimension of every view contiguous (stride 1); the ref backend takes any strides.
// T = 0 is allowed: nothing is written to y and state_out = state_in (or zeros).
// state_in and state_out may alias (the same view): every (b, h) reads its initial state before writing.
// Thread safety: the functions keep no global state; concurrent calls need distinct outputs and distinct pools
// (a ThreadPool runs one loop at a time).

enum class RecurrenceMode { kRecurrent, kScan, kQuadratic, kChunked };
enum class GateKind { kScalar, kVector };  // one gate per head, or one per key channel

inline const char* recurrence_mode_name(RecurrenceMode mode) {
  constexpr const char* kNames[] = {"recurrent", "scan", "quadratic", "chunked"};
  return kNames[static_cast<int>(mode)];
}

struct GatedRecurrenceArgs {
  core::TensorView q;             // (B, T, G, N)  readout ("C" in Mamba), real
  core::TensorView k;             // (B, T, G, N)  input key ("B" in Mamba), real; head h uses group h / (H/G)
  core::TensorView v;             // (B, T, H, P)  values ("x"), real
  core::TensorView log_decay;     // (B, T, H) scalar gates or (B, T, H, N) vector gates; Re(log a_t) <= 0
  core::TensorView phase;         // optional (data == nullptr: real gates); Im(log a_t), shape of log_decay
  core::TensorView y;             // (B, T, H, P)  output, written (not accumulated)
  core::TensorView state_in;      // optional (B, H, P, N)  Re of the initial state
  core::TensorView state_in_im;   // optional (B, H, P, N)  Im of the initial state; complex gates only
  core::TensorView state_out;     // optional (B, H, P, N)  Re of the final state
  core::TensorView state_out_im;  // optional (B, H, P, N)  Im of the final state; complex gates only
  double scale = 1.0;
  int64_t chunk = 64;  // kChunked only (ignored otherwise); any value >= 1
};

// One decode step: the recurrence for a single token, state updated in place.
struct GatedRecurrenceStepArgs {
  core::TensorView q;          // (B, G, N)
  core::TensorView k;          // (B, G, N)
  core::TensorView v;          // (B, H, P)
  core::TensorView log_decay;  // (B, H) or (B, H, N)
  core::TensorView phase;      // optional, shape of log_decay
  core::TensorView y;          // (B, H, P)
  core::TensorView state;      // (B, H, P, N)  read and written
  core::TensorView state_im;   // (B, H, P, N)  required with complex gates, absent with real ones
  double scale = 1.0;
};

// fp32 (and fp64) CPU paths, threaded over (batch, head), chunks, row blocks or time blocks.
// Throws llamba::Error on bad shapes, dtypes or strides.
void gated_recurrence_forward(core::ThreadPool& pool, const GatedRecurrenceArgs& args, RecurrenceMode mode);
void gated_recurrence_step(core::ThreadPool& pool, const GatedRecurrenceStepArgs& args);

}  // namespace llamba::ops

namespace llamba::ops::ref {

// The oracle: plain loops, fp64 arithmetic whatever the view dtype, single-threaded, any strides.
// Each mode is written independently of the others and of the cpu code.
void gated_recurrence_forward(const GatedRecurrenceArgs& args, RecurrenceMode mode);
void gated_recurrence_step(const GatedRecurrenceStepArgs& args);

}  // namespace llamba::ops::ref
