// token_scores reference: every quantity in double, straight from the definitions.
#include "ops/token_scores.h"

#include <cmath>

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

namespace {
// log softmax of row `r` of `v` (double), and its argmax (first of equal maxima).
std::vector<double> log_softmax_row(const core::TensorView& v, int64_t r, int32_t* argmax) {
  std::vector<double> x((size_t)v.size(1));
  for (int64_t k = 0; k < v.size(1); ++k) x[k] = ld(v, r * v.strides[0] + k);
  double mx = x[0];
  *argmax = 0;
  for (size_t i = 1; i < x.size(); ++i)
    if (x[i] > mx) mx = x[i], *argmax = (int32_t)i;
  double sum = 0;
  for (double xi : x) sum += std::exp(xi - mx);
  const double lse = mx + std::log(sum);
  for (double& xi : x) xi -= lse;
  return x;
}
}  // namespace

void token_scores_forward(const core::TensorView& logits, const core::TensorView& base,
                          std::span<const int32_t> targets, const TokenScoreRows& out) {
  check_token_scores("ref::token_scores_forward", logits, base, targets, out);
  for (int64_t m = 0; m < logits.size(0); ++m) {
    const std::vector<double> lp = log_softmax_row(logits, m, &out.argmax[m]);
    out.logprob[m] = lp[targets[m]];
    if (!base.data) continue;
    const std::vector<double> lb = log_softmax_row(base, m, &out.base_argmax[m]);
    out.base_logprob[m] = lb[targets[m]];
    double kl = 0;
    for (size_t v = 0; v < lp.size(); ++v)
      if (std::exp(lb[v]) > 0) kl += std::exp(lb[v]) * (lb[v] - lp[v]);
    out.kl[m] = kl;
  }
}

}  // namespace llamba::ops::ref
