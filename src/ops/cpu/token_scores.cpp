// token_scores on the CPU: rows across threads; per row one pass for the maxima and one for the fp32 exps with
// double sums. KL(base ‖ model) = Σ_v p_base,v (b_v − x_v) + lse(x) − lse(b), accumulated in the second pass, so
// a model scored against itself gives exactly 0.
#include "ops/token_scores.h"

#include <cmath>

#include "ops/check_shapes.h"

namespace llamba::ops::cpu {

namespace {
struct RowMax {
  float mx;
  int32_t arg;
};
RowMax row_max(const float* x, int64_t V) {
  RowMax r{x[0], 0};
  for (int64_t v = 1; v < V; ++v)
    if (x[v] > r.mx) r = {x[v], (int32_t)v};
  return r;
}
}  // namespace

void token_scores_forward(core::ThreadPool& pool, const core::TensorView& logits, const core::TensorView& base,
                          std::span<const int32_t> targets, const TokenScoreRows& out) {
  check_token_scores("token_scores_forward", logits, base, targets, out);
  LLAMBA_ENSURE(logits.dtype == core::DType::kF32, "[token_scores_forward] logits must be f32, got {}",
                core::dtype_name(logits.dtype));
  const int64_t M = logits.size(0), V = logits.size(1);
  pool.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      const float* x = logits.f32() + m * logits.strides[0];
      const RowMax rx = row_max(x, V);
      out.argmax[m] = rx.arg;
      const int32_t t = targets[m];
      if (!base.data) {
        double sx = 0;
        for (int64_t v = 0; v < V; ++v) sx += std::exp(x[v] - rx.mx);
        out.logprob[m] = (double)(x[t] - rx.mx) - std::log(sx);
        continue;
      }
      const float* b = base.f32() + m * base.strides[0];
      const RowMax rb = row_max(b, V);
      out.base_argmax[m] = rb.arg;
      double sx = 0, sb = 0, w = 0;
      for (int64_t v = 0; v < V; ++v) {
        sx += std::exp(x[v] - rx.mx);
        const double eb = std::exp(b[v] - rb.mx);
        sb += eb;
        if (eb > 0) w += eb * ((double)b[v] - (double)x[v]);  // p_base = 0 adds nothing (also at −inf logits)
      }
      const double log_sx = std::log(sx), log_sb = std::log(sb);
      out.logprob[m] = (double)(x[t] - rx.mx) - log_sx;
      out.base_logprob[m] = (double)(b[t] - rb.mx) - log_sb;
      out.kl[m] = w / sb + ((double)rx.mx - (double)rb.mx) + (log_sx - log_sb);
    }
  });
}

}  // namespace llamba::ops::cpu
