// Shape checks shared by an op's ref and cpu entry points, so both validate identically (once, at entry). A bad
// shape is a caller's error a library must survive: it throws llamba::Error naming the op and the shapes.
#pragma once

#include <algorithm>
#include <span>

#include "core/tensor.h"

namespace llamba::ops {

// x (M, K), w (N, K), y (M, N), bias (N) optional; inner dimensions contiguous.
inline void check_linear_shapes(const char* op, const core::TensorView& y, const core::TensorView& x,
                                const core::TensorView& w, const core::TensorView& bias) {
  LLAMBA_ENSURE(x.rank() == 2 && w.rank() == 2 && y.rank() == 2,
                "[{}] expected x (M, K), w (N, K), y (M, N); got {} {} {}", op, x.shape.str(), w.shape.str(),
                y.shape.str());
  LLAMBA_ENSURE(x.size(1) == w.size(1) && y.size(0) == x.size(0) && y.size(1) == w.size(0),
                "[{}] shape mismatch: x {} w {} y {}", op, x.shape.str(), w.shape.str(), y.shape.str());
  LLAMBA_ENSURE(x.strides[1] == 1 && y.strides[1] == 1 && w.is_contiguous(), "[{}] inner dims must be contiguous", op);
  LLAMBA_ENSURE(!bias.data || (bias.rank() == 1 && bias.size(0) == w.size(0)), "[{}] bias {} for {} outputs", op,
                bias.shape.str(), w.size(0));
}

// Row-wise ops: a (M, F) with contiguous rows; every other view the same shape.
inline void check_rows(const char* op, const core::TensorView& a, const core::TensorView& b) {
  LLAMBA_ENSURE(a.rank() == 2 && b.rank() == 2 && a.shape == b.shape && a.strides[1] == 1 && b.strides[1] == 1,
                "[{}] expected matching (M, F) views with contiguous rows, got {} and {}", op, a.shape.str(),
                b.shape.str());
}

// skip_add: y, x (M, H·P) with contiguous rows; d (H) contiguous, H dividing the width.
inline void check_skip_add(const char* op, const core::TensorView& y, const core::TensorView& x,
                           const core::TensorView& d) {
  check_rows(op, y, x);
  LLAMBA_ENSURE(d.rank() == 1 && d.size(0) > 0 && d.is_contiguous() && y.size(1) % d.size(0) == 0,
                "[{}] d {} must be (H) with H dividing the width {}", op, d.shape.str(), y.size(1));
}

// attention: q, out (T, Hq, hd), k, v (S, Hkv, hd) with S >= n_past + T and Hq % Hkv == 0, head dims
// contiguous; probs (Hq, T, >= n_past + T) contiguous, optional.
inline void check_attention(const char* op, const core::TensorView& out, const core::TensorView& q,
                            const core::TensorView& k, const core::TensorView& v, int64_t n_past,
                            const core::TensorView& probs) {
  LLAMBA_ENSURE(q.rank() == 3 && k.rank() == 3 && v.rank() == 3 && out.shape == q.shape && k.shape == v.shape,
                "[{}] q {} k {} v {} out {}", op, q.shape.str(), k.shape.str(), v.shape.str(), out.shape.str());
  const int64_t T = q.size(0), Hq = q.size(1), hd = q.size(2), Hkv = k.size(1);
  LLAMBA_ENSURE(k.size(2) == hd && Hkv > 0 && Hq % Hkv == 0 && n_past >= 0 && k.size(0) >= n_past + T,
                "[{}] q {} vs cache {} with n_past {}", op, q.shape.str(), k.shape.str(), n_past);
  LLAMBA_ENSURE(q.strides[2] == 1 && k.strides[2] == 1 && v.strides[2] == 1 && out.strides[2] == 1,
                "[{}] head dim must be contiguous", op);
  LLAMBA_ENSURE(!probs.data || (probs.rank() == 3 && probs.size(0) == Hq && probs.size(1) == T &&
                                probs.size(2) >= n_past + T && probs.is_contiguous()),
                "[{}] probs {} for Hq {} T {} S {}", op, probs.shape.str(), Hq, T, n_past + T);
}

// attention backward: dout like q; gradients dq (like q), dk, dv (like k, v), each optional.
inline void check_attention_backward(const char* op, const core::TensorView& dq, const core::TensorView& dk,
                                     const core::TensorView& dv, const core::TensorView& dout,
                                     const core::TensorView& q, const core::TensorView& k, const core::TensorView& v,
                                     int64_t n_past) {
  check_attention(op, dout, q, k, v, n_past, {});
  LLAMBA_ENSURE(!dq.data || (dq.shape == q.shape && dq.strides[2] == 1), "[{}] dq {} for q {}", op, dq.shape.str(),
                q.shape.str());
  for (const core::TensorView* g : {&dk, &dv})
    LLAMBA_ENSURE(!g->data || (g->shape == k.shape && g->strides[2] == 1), "[{}] dk/dv {} for k {}", op, g->shape.str(),
                  k.shape.str());
}

// conv1d_causal: x, y (T, C) with contiguous rows, w (C, K) contiguous, bias (C) optional, state (K−1, C)
// contiguous (optional where `state_optional`: the backward's state_in, zeros when empty).
inline void check_conv1d_causal(const char* op, const core::TensorView& y, const core::TensorView& x,
                                const core::TensorView& w, const core::TensorView& bias, const core::TensorView& state,
                                bool state_optional = false) {
  LLAMBA_ENSURE(x.rank() == 2 && y.shape == x.shape && w.rank() == 2 && w.size(0) == x.size(1) && x.strides[1] == 1 &&
                    y.strides[1] == 1 && w.is_contiguous() && w.size(1) >= 1,
                "[{}] x {} y {} w {}", op, x.shape.str(), y.shape.str(), w.shape.str());
  const int64_t C = x.size(1), K = w.size(1);
  LLAMBA_ENSURE(!bias.data || (bias.numel() == C && bias.is_contiguous()), "[{}] bias {} for {} channels", op,
                bias.shape.str(), C);
  if (state_optional && !state.data) return;
  LLAMBA_ENSURE(state.rank() == 2 && state.size(0) == K - 1 && state.size(1) == C && state.is_contiguous(),
                "[{}] state {} for K {} C {}", op, state.shape.str(), K, C);
}

// conv1d_causal forward: as above, or a batch of B sequences: state (B, K−1, C) contiguous, x and y (B·T, C) with
// sequence b in rows [b·T, (b+1)·T). Returns B.
inline int64_t check_conv1d_causal_forward(const char* op, const core::TensorView& y, const core::TensorView& x,
                                           const core::TensorView& w, const core::TensorView& bias,
                                           const core::TensorView& state) {
  if (state.rank() != 3) {
    check_conv1d_causal(op, y, x, w, bias, state);
    return 1;
  }
  const int64_t B = state.size(0);
  LLAMBA_ENSURE(B > 0 && x.rank() == 2 && x.size(0) % B == 0, "[{}] x {} is not rows of {} sequences", op,
                x.shape.str(), B);
  check_conv1d_causal(op, y.slice(0, 0, x.size(0) / B), x.slice(0, 0, x.size(0) / B), w, bias, state.select(0, 0));
  LLAMBA_ENSURE(y.shape == x.shape && state.is_contiguous(), "[{}] y {} for x {}, state {}", op, y.shape.str(),
                x.shape.str(), state.shape.str());
  return B;
}

// conv1d_causal backward: dy, x (T, C), w (C, K), bias (C) and state_in (K−1, C) optional as inputs; gradients
// dx (T, C), dw (C, K), dbias (C), dstate_in (K−1, C) and the incoming dstate_out (K−1, C) all optional.
inline void check_conv1d_causal_backward(const char* op, const core::TensorView& dx, const core::TensorView& dw,
                                         const core::TensorView& dbias, const core::TensorView& dstate_in,
                                         const core::TensorView& dy, const core::TensorView& x,
                                         const core::TensorView& w, const core::TensorView& bias,
                                         const core::TensorView& state_in, const core::TensorView& dstate_out) {
  check_conv1d_causal(op, dy, x, w, bias, state_in, true);
  const int64_t C = x.size(1), K = w.size(1);
  if (dx.data) check_rows(op, dx, x);
  LLAMBA_ENSURE(!dw.data || (dw.shape == w.shape && dw.is_contiguous()), "[{}] dw {} for w {}", op, dw.shape.str(),
                w.shape.str());
  LLAMBA_ENSURE(!dbias.data || (dbias.numel() == C && dbias.is_contiguous()), "[{}] dbias {} for {} channels", op,
                dbias.shape.str(), C);
  for (const core::TensorView* v : {&dstate_in, &dstate_out})
    LLAMBA_ENSURE(!v->data || (v->rank() == 2 && v->size(0) == K - 1 && v->size(1) == C && v->is_contiguous()),
                  "[{}] state gradient {} for K {} C {}", op, v->shape.str(), K, C);
}

// cross_entropy: logits (M, V) with contiguous rows, one target per row in [0, V) or negative (ignored);
// dlogits optional, the shape of logits.
inline void check_cross_entropy(const char* op, const core::TensorView& dlogits, const core::TensorView& logits,
                                std::span<const int32_t> targets) {
  LLAMBA_ENSURE(logits.rank() == 2 && logits.strides[1] == 1 && logits.size(0) == (int64_t)targets.size(),
                "[{}] logits {} for {} targets", op, logits.shape.str(), targets.size());
  if (dlogits.data) check_rows(op, dlogits, logits);
  for (int32_t t : targets)
    LLAMBA_ENSURE(t < logits.size(1), "[{}] target {} is outside the vocabulary [0, {})", op, t, logits.size(1));
}

// kl_div: student, teacher (M, V) with contiguous rows; dstudent optional, the same shape; tau > 0.
inline void check_kl_div(const char* op, const core::TensorView& dstudent, const core::TensorView& student,
                         const core::TensorView& teacher, double tau) {
  check_rows(op, student, teacher);
  if (dstudent.data) check_rows(op, dstudent, student);
  LLAMBA_ENSURE(tau > 0, "[{}] temperature {} must be > 0", op, tau);
}

// mse: a, b (M, D) with contiguous rows; da, db optional, the same shape.
inline void check_mse(const char* op, const core::TensorView& da, const core::TensorView& db, const core::TensorView& a,
                      const core::TensorView& b) {
  check_rows(op, a, b);
  if (da.data) check_rows(op, da, a);
  if (db.data) check_rows(op, db, a);
}

// frobenius: m, a (B, H, T, T) or (H, T, T), contiguous, equal shapes; dm optional, the same. Returns the
// (B·H, T·T) shape the loss is computed on.
inline core::Shape check_frobenius(const char* op, const core::TensorView& dm, const core::TensorView& m,
                                   const core::TensorView& a) {
  LLAMBA_ENSURE((m.rank() == 3 || m.rank() == 4) && a.shape == m.shape && m.size(-1) == m.size(-2) &&
                    m.is_contiguous() && a.is_contiguous(),
                "[{}] expected contiguous m, a (B, H, T, T) or (H, T, T); got {} and {}", op, m.shape.str(),
                a.shape.str());
  LLAMBA_ENSURE(!dm.data || (dm.shape == m.shape && dm.is_contiguous()), "[{}] dm {} for m {}", op, dm.shape.str(),
                m.shape.str());
  const int64_t T = m.size(-1);
  return {m.numel() / std::max<int64_t>(T * T, 1), T * T};
}

// rope: x (T, H, hd) with a contiguous head dim, one position per row, 2·len(inv_freq) <= hd; `other`
// (optional) the same shape (the backward's dx next to dy).
inline void check_rope(const char* op, const core::TensorView& x, const core::TensorView& other,
                       std::span<const int64_t> positions, std::span<const float> inv_freq) {
  LLAMBA_ENSURE(x.rank() == 3 && x.size(0) == (int64_t)positions.size() && x.strides[2] == 1,
                "[{}] x {} for {} positions", op, x.shape.str(), positions.size());
  LLAMBA_ENSURE(2 * (int64_t)inv_freq.size() <= x.size(2), "[{}] {} frequencies for head dim {}", op, inv_freq.size(),
                x.size(2));
  LLAMBA_ENSURE(!other.data || (other.shape == x.shape && other.strides[2] == 1), "[{}] gradient {} for {}", op,
                other.shape.str(), x.shape.str());
}

// embedding backward: dtable (V, D), dout (T, D), both with contiguous rows.
inline void check_embedding_backward(const char* op, const core::TensorView& dtable, const core::TensorView& dout,
                                     int64_t T) {
  LLAMBA_ENSURE(dtable.rank() == 2 && dout.rank() == 2 && dout.size(0) == T && dout.size(1) == dtable.size(1) &&
                    dtable.strides[1] == 1 && dout.strides[1] == 1,
                "[{}] dtable {} dout {} for {} ids", op, dtable.shape.str(), dout.shape.str(), T);
}

// linear backward: dy (M, N); dx (M, K) needs w (N, K); dw (N, K) needs x (M, K); dbias (N). Each gradient is
// optional, and the input only it reads may then be empty. Inner dims contiguous; dw, dbias contiguous.
inline void check_linear_backward(const char* op, const core::TensorView& dx, const core::TensorView& dw,
                                  const core::TensorView& dbias, const core::TensorView& dy, const core::TensorView& x,
                                  const core::TensorView& w) {
  LLAMBA_ENSURE(dy.rank() == 2 && dy.strides[1] == 1, "[{}] dy {} must be (M, N) with contiguous rows", op,
                dy.shape.str());
  const int64_t M = dy.size(0), N = dy.size(1);
  if (dx.data) {
    LLAMBA_ENSURE(w.rank() == 2 && w.size(0) == N && w.is_contiguous() && (w.data || w.numel() == 0),
                  "[{}] dx needs w (N={}, K), got {}", op, N, w.shape.str());
    LLAMBA_ENSURE(dx.rank() == 2 && dx.size(0) == M && dx.size(1) == w.size(1) && dx.strides[1] == 1,
                  "[{}] dx {} for dy {} and w {}", op, dx.shape.str(), dy.shape.str(), w.shape.str());
  }
  if (dw.data) {
    LLAMBA_ENSURE(x.rank() == 2 && x.size(0) == M && x.strides[1] == 1 && (x.data || x.numel() == 0),
                  "[{}] dw needs x (M={}, K), got {}", op, M, x.shape.str());
    LLAMBA_ENSURE(dw.rank() == 2 && dw.size(0) == N && dw.size(1) == x.size(1) && dw.is_contiguous(),
                  "[{}] dw {} for dy {} and x {}", op, dw.shape.str(), dy.shape.str(), x.shape.str());
  }
  LLAMBA_ENSURE(!dbias.data || (dbias.numel() == N && dbias.is_contiguous()), "[{}] dbias {} for {} outputs", op,
                dbias.shape.str(), N);
  if (dx.data && dw.data)
    LLAMBA_ENSURE(x.size(1) == w.size(1), "[{}] x {} and w {} disagree on K", op, x.shape.str(), w.shape.str());
}

// rmsnorm backward: dy, x (M, D); dx (M, D) and dw (D) optional.
inline void check_rmsnorm_backward(const char* op, const core::TensorView& dx, const core::TensorView& dw,
                                   const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w) {
  check_rows(op, dy, x);
  if (dx.data) check_rows(op, dx, x);
  LLAMBA_ENSURE(w.rank() == 1 && w.size(0) == x.size(1) && (!dw.data || (dw.shape == w.shape && dw.is_contiguous())),
                "[{}] w {} dw {} for width {}", op, w.shape.str(), dw.shape.str(), x.size(1));
}

// swiglu: out, gate, up (M, F) with contiguous rows; gate_bias (F) optional.
inline void check_swiglu(const char* op, const core::TensorView& out, const core::TensorView& gate,
                         const core::TensorView& up, const core::TensorView& gate_bias) {
  check_rows(op, out, gate);
  check_rows(op, out, up);
  LLAMBA_ENSURE(!gate_bias.data || (gate_bias.numel() == out.size(1) && gate_bias.is_contiguous()),
                "[{}] gate_bias {} for width {}", op, gate_bias.shape.str(), out.size(1));
}

// swiglu backward: dout, gate, up (M, F); dgate, dup (M, F) and dgate_bias (F) optional.
inline void check_swiglu_backward(const char* op, const core::TensorView& dgate, const core::TensorView& dup,
                                  const core::TensorView& dgate_bias, const core::TensorView& dout,
                                  const core::TensorView& gate, const core::TensorView& up,
                                  const core::TensorView& gate_bias) {
  check_swiglu(op, dout, gate, up, gate_bias);
  if (dgate.data) check_rows(op, dgate, dout);
  if (dup.data) check_rows(op, dup, dout);
  LLAMBA_ENSURE(!dgate_bias.data || (dgate_bias.numel() == dout.size(1) && dgate_bias.is_contiguous()),
                "[{}] dgate_bias {} for width {}", op, dgate_bias.shape.str(), dout.size(1));
}

// gelu: out, x (M, F) with contiguous rows; bias (F) optional.
inline void check_gelu(const char* op, const core::TensorView& out, const core::TensorView& x,
                       const core::TensorView& bias) {
  check_rows(op, out, x);
  LLAMBA_ENSURE(!bias.data || (bias.numel() == x.size(1) && bias.is_contiguous()), "[{}] bias {} for width {}", op,
                bias.shape.str(), x.size(1));
}

// gelu backward: dout, x (M, F); dx (M, F) and dbias (F) optional.
inline void check_gelu_backward(const char* op, const core::TensorView& dx, const core::TensorView& dbias,
                                const core::TensorView& dout, const core::TensorView& x, const core::TensorView& bias) {
  check_gelu(op, dout, x, bias);
  if (dx.data) check_rows(op, dx, x);
  LLAMBA_ENSURE(!dbias.data || (dbias.numel() == x.size(1) && dbias.is_contiguous()), "[{}] dbias {} for width {}", op,
                dbias.shape.str(), x.size(1));
}

// layernorm: y, x (M, D) with contiguous rows; w (D), b (D) optional.
inline void check_layernorm(const char* op, const core::TensorView& y, const core::TensorView& x,
                            const core::TensorView& w, const core::TensorView& b) {
  check_rows(op, y, x);
  const int64_t D = x.size(1);
  LLAMBA_ENSURE(w.rank() == 1 && w.size(0) == D && (!b.data || (b.rank() == 1 && b.size(0) == D)),
                "[{}] weight {} / bias {} for width {}", op, w.shape.str(), b.shape.str(), D);
}

// layernorm backward: dy, x (M, D), w (D), b (D) optional; dx (M, D), dw (D), db (D) optional.
inline void check_layernorm_backward(const char* op, const core::TensorView& dx, const core::TensorView& dw,
                                     const core::TensorView& db, const core::TensorView& dy, const core::TensorView& x,
                                     const core::TensorView& w) {
  check_layernorm(op, dy, x, w, {});
  if (dx.data) check_rows(op, dx, x);
  for (const core::TensorView* g : {&dw, &db})
    LLAMBA_ENSURE(!g->data || (g->numel() == x.size(1) && g->is_contiguous()), "[{}] dw/db {} for width {}", op,
                  g->shape.str(), x.size(1));
}

// token_scores: logits (M, V) with contiguous rows, f32 (f64 too for the reference); base empty or the same
// shape; targets (M) in [0, V); the outputs M long (the base ones when there is a base). Throws: bad input here
// comes from callers' data (evaluation files), not only from programming errors.
template <class Rows>
void check_token_scores(const char* op, const core::TensorView& logits, const core::TensorView& base,
                        std::span<const int32_t> targets, const Rows& out) {
  LLAMBA_ENSURE(logits.rank() == 2 && logits.strides[1] == 1, "[{}] logits {} must be (M, V) with contiguous rows", op,
                logits.shape.str());
  const int64_t M = logits.size(0), V = logits.size(1);
  LLAMBA_ENSURE(!base.data || (base.shape == logits.shape && base.strides[1] == 1 && base.dtype == logits.dtype),
                "[{}] base logits {} for logits {}", op, base.shape.str(), logits.shape.str());
  LLAMBA_ENSURE((int64_t)targets.size() == M && (int64_t)out.logprob.size() == M && (int64_t)out.argmax.size() == M,
                "[{}] {} rows, {} targets, {} logprob and {} argmax outputs", op, M, targets.size(), out.logprob.size(),
                out.argmax.size());
  if (base.data)
    LLAMBA_ENSURE(
        (int64_t)out.base_logprob.size() == M && (int64_t)out.base_argmax.size() == M && (int64_t)out.kl.size() == M,
        "[{}] base outputs must have {} rows", op, M);
  for (int32_t t : targets)
    LLAMBA_ENSURE(t >= 0 && t < V, "[{}] target {} is outside the vocabulary [0, {})", op, t, V);
}

}  // namespace llamba::ops
