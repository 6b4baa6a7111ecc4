// Small elementwise ops of the models' layers, so that model code runs no loops over tensor data (and runs on
// any backend): the residual add, the log-decay of Llamba's gate, and the SSM mixers' D skip. f32, forward only
// (the training backward keeps its own loops for now). Views are (M, F) with contiguous rows; rows may be strided.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// y (M, F) += x (M, F). y and x may be the same view.
inline void add_inplace(Context& ctx, const core::TensorView& y, const core::TensorView& x);
// out (M, F) = −softplus(a) = −(max(a, 0) + log1p(exp(−|a|))), the log-decay log σ(−a) ≤ 0 of a gate opened by
// a (Llamba's Discrete Mamba-2, with no overflow for any finite a).
inline void neg_softplus(Context& ctx, const core::TensorView& out, const core::TensorView& a);
// y (M, H·P) += d[h] · x (M, H·P), head h owning columns [h·P, (h+1)·P): the D skip of the SSM mixers.
inline void skip_add(Context& ctx, const core::TensorView& y, const core::TensorView& x, const core::TensorView& d);

namespace ref {  // double arithmetic, f32 or f64 views
void add_inplace(const core::TensorView& y, const core::TensorView& x);
void neg_softplus(const core::TensorView& out, const core::TensorView& a);
void skip_add(const core::TensorView& y, const core::TensorView& x, const core::TensorView& d);
}  // namespace ref

namespace cpu {
void add_inplace(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x);
void neg_softplus(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& a);
void skip_add(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
              const core::TensorView& d);
}  // namespace cpu
namespace cuda {  // ops/cuda/elementwise.cpp (-DLLAMBA_CUDA=ON)
void add_inplace(Backend& be, const core::TensorView& y, const core::TensorView& x);
void neg_softplus(Backend& be, const core::TensorView& out, const core::TensorView& a);
void skip_add(Backend& be, const core::TensorView& y, const core::TensorView& x, const core::TensorView& d);
}  // namespace cuda

inline void add_inplace(Context& ctx, const core::TensorView& y, const core::TensorView& x) {
  return LLAMBA_DISPATCH_CUDA(ctx, add_inplace, y, x);
}
inline void neg_softplus(Context& ctx, const core::TensorView& out, const core::TensorView& a) {
  return LLAMBA_DISPATCH_CUDA(ctx, neg_softplus, out, a);
}
inline void skip_add(Context& ctx, const core::TensorView& y, const core::TensorView& x, const core::TensorView& d) {
  return LLAMBA_DISPATCH_CUDA(ctx, skip_add, y, x, d);
}

}  // namespace llamba::ops
