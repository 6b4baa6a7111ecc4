// kl_div: distillation loss of student logits against given teacher logits, two variants (forward returns the
// loss, backward gives ∂loss/∂student; the teacher is frozen):
//   kKl     = τ² · mean_rows KL(softmax(t/τ) ‖ softmax(s/τ))  — Hinton et al. 2015: the τ² keeps gradient
//             magnitudes independent of τ; at τ = 1 it is the plain forward KL.
//   kSoftCe = mean_rows −Σ_v softmax(t)_v · log_softmax(s/τ)_v — MOHAWK stage 3 exactly (goombalab/mohawk
//             supervised.py, docs/distillation.md §"Losses and gradients"): teacher NOT tempered, no τ². It equals KL +
//             the teacher's entropy, so at τ = 1 both variants have the same gradient and differ by a constant.
// Backward convention (llm.c): the gradient is ACCUMULATED into (+=), callers zero it. Chunked use: as in
// cross_entropy.h, pass dloss = rows(chunk) / rows(all).
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

enum class KdLoss { kKl, kSoftCe };

// student, teacher (M, V) f32, rows may be strided; tau > 0. Returns the mean over rows. Rows across threads;
// fp32 exp, double sums.
inline double kl_div_forward(Context& ctx, const core::TensorView& student, const core::TensorView& teacher,
                             float tau = 1.0f, KdLoss kind = KdLoss::kKl);

// dstudent (M, V) += dloss / M · c · (softmax(s/τ) − p), c = τ (kKl) or 1/τ (kSoftCe), p the teacher
// distribution of the variant. f32; rows may be strided.
inline void kl_div_backward(Context& ctx, const core::TensorView& dstudent, const core::TensorView& student,
                            const core::TensorView& teacher, float tau = 1.0f, KdLoss kind = KdLoss::kKl,
                            float dloss = 1.0f);

namespace ref {
// Same contracts; f32 or f64 views, double arithmetic.
double kl_div_forward(const core::TensorView& student, const core::TensorView& teacher, double tau = 1.0,
                      KdLoss kind = KdLoss::kKl);
void kl_div_backward(const core::TensorView& dstudent, const core::TensorView& student, const core::TensorView& teacher,
                     double tau = 1.0, KdLoss kind = KdLoss::kKl, double dloss = 1.0);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
double kl_div_forward(core::ThreadPool& pool, const core::TensorView& student, const core::TensorView& teacher,
                      float tau, KdLoss kind);
void kl_div_backward(core::ThreadPool& pool, const core::TensorView& dstudent, const core::TensorView& student,
                     const core::TensorView& teacher, float tau, KdLoss kind, float dloss);
}  // namespace cpu

inline double kl_div_forward(Context& ctx, const core::TensorView& student, const core::TensorView& teacher, float tau,
                             KdLoss kind) {
  return LLAMBA_DISPATCH(ctx, kl_div_forward, student, teacher, tau, kind);
}
inline void kl_div_backward(Context& ctx, const core::TensorView& dstudent, const core::TensorView& student,
                            const core::TensorView& teacher, float tau, KdLoss kind, float dloss) {
  return LLAMBA_DISPATCH(ctx, kl_div_backward, dstudent, student, teacher, tau, kind, dloss);
}

}  // namespace llamba::ops
