// The gated linear recurrence (GateLoop / Mamba-2 / Discrete Mamba-2 / GLA): declarations, shapes and the
// numerical contract of the forward, decode step and backward. fp32/fp64 CPU paths live in
// ops/cpu/gated_recurrence*.cpp, the fp64 oracle in ops/ref/gated_recurrence*.cpp. D-skip, gating, norms,
// Δ-scaling of v and the conv belong to the models.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "core/tensor.h"
#include "ops/context.h"

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
//               the same passes the backward runs to recompute the chunk states.
//
// Numerical contract (docs/recurrence.md §"Numerical contract"), identical in every mode and backend:
//   - log_decay must be <= 0 (|a| <= 1); larger values are clamped to 0. −inf (a = 0) is a clean reset:
//     the state before it is dropped exactly, never producing NaN.
//   - Decay exponents are sums of non-positive terms (segment sums, chunk-local running sums); they are never
//     formed as differences of cumulative sums, so nothing overflows and −inf − (−inf) never happens (inside
//     a cpu row block of <= 16 steps, vector-gate decays are running products of |a_j| <= 1, never divided).
//     Long sums (phases, decays referred across many steps) are accumulated in fp64.
//   - The cpu chunked/quadratic modes handle complex gates by the rotation reduction to a real kernel with
//     2N keys (docs/recurrence.md §"Rotation reduction"): absolute phases are accumulated in fp64 and wrapped
//     mod 2π before cos/sin.
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

// Backward of gated_recurrence_forward: given dy = ∂L/∂y and optionally the gradient flowing into the final
// state, the gradients of L w.r.t. every input. Complex quantities follow PyTorch's convention
// g_z = ∂L/∂Re z + i·∂L/∂Im z (docs/recurrence.md §"Gradients"): (dstate_out, dstate_out_im) is g of the final state,
// (dstate_in, dstate_in_im) g of the initial one, (dlog_decay, dphase) = (Re, Im) of g_{log a}.
//
// ACCUMULATION CONVENTION: every gradient output is accumulated into (+=); callers zero them. An output view
// with data == nullptr (or default-constructed) is not needed and is skipped. Outputs never alias inputs or
// each other. dq and dk are summed over the heads of each group (as q, k are shared by them).
//
// Gates at the clamp: log_decay > 0 (clamped to 0 by the forward) gets zero dlog_decay (its dphase still
// flows: the phase acts on a = e^{iθ}); log_decay = 0 passes the gradient (the one-sided derivative).
// log_decay = −inf (a = 0) gets exactly zero dlog_decay and dphase (∂a/∂log a = a = 0), never NaN, and stops
// the gradient flowing to earlier steps through the state, like the forward's reset.
//
// Modes: kRecurrent (the reverse-time loop, states recomputed from checkpoints every 64 steps; threads over
// (batch, head); scratch B·H·(T/64 + 64)·P·N, plus 2·B·H·T·N for dq, dk when G < H) and kChunked (the training
// path: per-chunk attention-style terms as matmuls, reverse state passing of dS, chunk-local reverse cumsums
// of the log-decay gradient; complex gates through the rotation reduction; threads over (batch, head, chunk)
// and (batch, group, chunk); scratch 2·B·H·⌈T/chunk⌉·P·N values, ×2 for complex gates). Both recompute what
// they need from the inputs (kChunked reruns the forward's chunk-state passes, about a third of a forward), so
// the caller keeps no activations: a simpler API than handing the forward's chunk states over, for that cost.
// kScan and kQuadratic are not implemented for the backward (they throw); they compute the same function.
struct GatedRecurrenceBackwardArgs {
  // The forward's inputs, as passed to gated_recurrence_forward.
  core::TensorView q;            // (B, T, G, N)
  core::TensorView k;            // (B, T, G, N)
  core::TensorView v;            // (B, T, H, P)
  core::TensorView log_decay;    // (B, T, H) or (B, T, H, N)
  core::TensorView phase;        // optional, shape of log_decay (complex gates)
  core::TensorView state_in;     // optional (B, H, P, N)
  core::TensorView state_in_im;  // optional (B, H, P, N), complex gates only
  // Incoming gradients.
  core::TensorView dy;             // (B, T, H, P)  ∂L/∂y
  core::TensorView dstate_out;     // optional (B, H, P, N)  ∂L/∂Re(state_out)
  core::TensorView dstate_out_im;  // optional (B, H, P, N)  ∂L/∂Im(state_out); complex gates only
  // Outputs, each optional, all accumulated (+=).
  core::TensorView dq;            // (B, T, G, N)
  core::TensorView dk;            // (B, T, G, N)
  core::TensorView dv;            // (B, T, H, P)
  core::TensorView dlog_decay;    // shape of log_decay
  core::TensorView dphase;        // shape of log_decay; complex gates only
  core::TensorView dstate_in;     // (B, H, P, N)  ∂L/∂Re(state_in) (also when state_in is absent: zeros)
  core::TensorView dstate_in_im;  // (B, H, P, N)  ∂L/∂Im(state_in); complex gates only
  double scale = 1.0;
  int64_t chunk = 64;  // kChunked only; any value >= 1
};

// fp32 (and fp64) CPU paths, threaded over (batch, head), chunks, row blocks or time blocks.
// Throws llamba::Error on bad shapes, dtypes or strides.
inline void gated_recurrence_forward(Context& ctx, const GatedRecurrenceArgs& args, RecurrenceMode mode);
inline void gated_recurrence_step(Context& ctx, const GatedRecurrenceStepArgs& args);
// mode ∈ {kRecurrent, kChunked}; same views rules as the forward (innermost dimension contiguous).
inline void gated_recurrence_backward(Context& ctx, const GatedRecurrenceBackwardArgs& args, RecurrenceMode mode);

// Backends: the CPU kernels (ops/cpu), the CUDA kernels (ops/cuda), and the dispatch of the ops above to them.
namespace cpu {
void gated_recurrence_forward(core::ThreadPool& pool, const GatedRecurrenceArgs& args, RecurrenceMode mode);
void gated_recurrence_step(core::ThreadPool& pool, const GatedRecurrenceStepArgs& args);
void gated_recurrence_backward(core::ThreadPool& pool, const GatedRecurrenceBackwardArgs& args, RecurrenceMode mode);
}  // namespace cpu
namespace cuda {  // ops/cuda/gated_recurrence.cpp (-DLLAMBA_CUDA=ON): real gates, f32; the forward runs the
                  // recurrent loop in every mode, states contiguous
void gated_recurrence_forward(Backend& be, const GatedRecurrenceArgs& args, RecurrenceMode mode);
void gated_recurrence_step(Backend& be, const GatedRecurrenceStepArgs& args);
}  // namespace cuda

// The dispatch checks the device of every view inside the argument structs, as it does for tensor arguments.
inline void check_device(const Context& ctx, const char* op, const GatedRecurrenceArgs& a) {
  for (const core::TensorView* v : {&a.q, &a.k, &a.v, &a.log_decay, &a.phase, &a.y, &a.state_in, &a.state_in_im,
                                    &a.state_out, &a.state_out_im})
    check_device(ctx, op, *v);
}
inline void check_device(const Context& ctx, const char* op, const GatedRecurrenceStepArgs& a) {
  for (const core::TensorView* v : {&a.q, &a.k, &a.v, &a.log_decay, &a.phase, &a.y, &a.state, &a.state_im})
    check_device(ctx, op, *v);
}
inline void check_device(const Context& ctx, const char* op, const GatedRecurrenceBackwardArgs& a) {
  for (const core::TensorView* v :
       {&a.q, &a.k, &a.v, &a.log_decay, &a.phase, &a.state_in, &a.state_in_im, &a.dy, &a.dstate_out,
        &a.dstate_out_im, &a.dq, &a.dk, &a.dv, &a.dlog_decay, &a.dphase, &a.dstate_in, &a.dstate_in_im})
    check_device(ctx, op, *v);
}

inline void gated_recurrence_forward(Context& ctx, const GatedRecurrenceArgs& args, RecurrenceMode mode) {
  return LLAMBA_DISPATCH_CUDA(ctx, gated_recurrence_forward, args, mode);
}
inline void gated_recurrence_step(Context& ctx, const GatedRecurrenceStepArgs& args) {
  return LLAMBA_DISPATCH_CUDA(ctx, gated_recurrence_step, args);
}
inline void gated_recurrence_backward(Context& ctx, const GatedRecurrenceBackwardArgs& args, RecurrenceMode mode) {
  return LLAMBA_DISPATCH(ctx, gated_recurrence_backward, args, mode);
}

}  // namespace llamba::ops

namespace llamba::ops::ref {

// The oracle: plain loops, fp64 arithmetic whatever the view dtype, single-threaded, any strides.
// Each mode is written independently of the others and of the cpu code.
void gated_recurrence_forward(const GatedRecurrenceArgs& args, RecurrenceMode mode);
void gated_recurrence_step(const GatedRecurrenceStepArgs& args);
// The reverse-time loop of docs/recurrence.md §"Gradients" in complex fp64 over all stored states
// (memory O(T·P·N) per head); `args.chunk` is ignored.
void gated_recurrence_backward(const GatedRecurrenceBackwardArgs& args);

}  // namespace llamba::ops::ref
