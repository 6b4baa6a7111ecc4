// attention: causal softmax attention of new queries over a key/value cache, with grouped KV heads (GQA:
// query head j reads KV head j / (Hq/Hkv)). Softmax in fp32 with the max subtracted (transformers eager).
// Forward and backward. Backward convention (llm.c): every gradient output is ACCUMULATED into (+=), callers
// zero them; a gradient view with data == nullptr is not needed. Gradients never alias inputs.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// out (T, Hq, hd) = softmax(q kᵀ · scale + causal mask) v, where query t sits at position n_past + t and sees
// keys 0 .. n_past + t of k (S, Hkv, hd), v (S, Hkv, hd), S >= n_past + T.
// probs (Hq, T, S), optional: the attention probabilities (MOHAWK stage 1 needs them).
inline void attention_forward(Context& ctx, const core::TensorView& out, const core::TensorView& q,
                              const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale,
                              const core::TensorView& probs = {});

// Gradients given dout (T, Hq, hd): dq (T, Hq, hd), dk, dv (S, Hkv, hd) (summed over the query heads of each
// KV head; cache rows no query saw get nothing), for the forward's q, k, v, n_past, scale. f32. Pass 1 (query
// rows across threads): dq and each row's softmax max, normalizer and δ = dout·out; pass 2 (KV head × key block
// across threads): dk, dv from recomputed probabilities, summed locally and added once.
inline void attention_backward(Context& ctx, const core::TensorView& dq, const core::TensorView& dk,
                               const core::TensorView& dv, const core::TensorView& dout, const core::TensorView& q,
                               const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale);

namespace ref {
void attention_forward(const core::TensorView& out, const core::TensorView& q, const core::TensorView& k,
                       const core::TensorView& v, int64_t n_past, double scale, const core::TensorView& probs = {});
// Same contract; f32 or f64 views, double arithmetic.
void attention_backward(const core::TensorView& dq, const core::TensorView& dk, const core::TensorView& dv,
                        const core::TensorView& dout, const core::TensorView& q, const core::TensorView& k,
                        const core::TensorView& v, int64_t n_past, double scale);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
void attention_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& q,
                       const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale,
                       const core::TensorView& probs);
void attention_backward(core::ThreadPool& pool, const core::TensorView& dq, const core::TensorView& dk,
                        const core::TensorView& dv, const core::TensorView& dout, const core::TensorView& q,
                        const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale);
}  // namespace cpu

inline void attention_forward(Context& ctx, const core::TensorView& out, const core::TensorView& q,
                              const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale,
                              const core::TensorView& probs) {
  return LLAMBA_DISPATCH(ctx, attention_forward, out, q, k, v, n_past, scale, probs);
}
inline void attention_backward(Context& ctx, const core::TensorView& dq, const core::TensorView& dk,
                               const core::TensorView& dv, const core::TensorView& dout, const core::TensorView& q,
                               const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale) {
  return LLAMBA_DISPATCH(ctx, attention_backward, dq, dk, dv, dout, q, k, v, n_past, scale);
}

}  // namespace llamba::ops
