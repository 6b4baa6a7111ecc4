// attention: causal softmax attention of new queries over a key/value cache, with grouped KV heads (GQA:
// query head j reads KV head j / (Hq/Hkv)). Softmax in fp32 with the max subtracted (transformers eager).
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// out (T, Hq, hd) = softmax(q kᵀ · scale + causal mask) v, where query t sits at position n_past + t and sees
// keys 0 .. n_past + t of k (S, Hkv, hd), v (S, Hkv, hd), S >= n_past + T.
// probs (Hq, T, S), optional: the attention probabilities (MOHAWK stage 1 needs them).
void attention_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& q,
                       const core::TensorView& k, const core::TensorView& v, int64_t n_past, float scale,
                       const core::TensorView& probs = {});

namespace ref {
void attention_forward(const core::TensorView& out, const core::TensorView& q, const core::TensorView& k,
                       const core::TensorView& v, int64_t n_past, double scale, const core::TensorView& probs = {});
}

}  // namespace llamba::ops
