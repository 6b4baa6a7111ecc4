// evaluate_perplexity: llama-perplexity's chunking and statistics over the Scorer.
#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "eval/scorer.h"

namespace llamba::eval {

namespace {

// llama.cpp's mean_and_uncertainty: the mean and the standard error of the mean (0 for fewer than 11 values).
ValueError mean_and_error(double sum, double sum2, int64_t n) {
  if (n < 1) return {};
  const double f = sum / (double)n;
  double df = sum2 / (double)n - f * f;
  df = df > 0 && n > 10 ? std::sqrt(df / (double)(n - 1)) : 0.0;
  return {f, df};
}

// Linear interpolation between order statistics, as llama.cpp's percentile lambda.
double percentile(const std::vector<double>& sorted, double fraction) {
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  const double p = fraction * (double)(sorted.size() - 1);
  const size_t i = (size_t)p;
  const double w = p - (double)i;
  return (1 - w) * sorted[i] + w * sorted[std::min(i + 1, sorted.size() - 1)];
}

KlStats kl_stats(const std::vector<SequenceScores>& scores) {
  double nll = 0, nll2 = 0, nllb = 0, nllb2 = 0, cross = 0, kld = 0, kld2 = 0, dp2 = 0, dp4 = 0;
  int64_t n = 0, same = 0;
  std::vector<double> kls;
  for (const SequenceScores& s : scores) {
    for (size_t j = 0; j < s.logprob.size(); ++j) {
      const double a = -s.logprob[j], b = -s.base_logprob[j], k = s.kl[j];
      nll += a, nll2 += a * a, nllb += b, nllb2 += b * b, cross += a * b, kld += k, kld2 += k * k;
      const double dp = std::exp(-a) - std::exp(-b);
      dp2 += dp * dp, dp4 += dp * dp * dp * dp;
      same += s.same_top[j];
      kls.push_back(k);
      ++n;
    }
  }
  KlStats st;
  std::sort(kls.begin(), kls.end());
  const ValueError lp = mean_and_error(nll, nll2, n), lb = mean_and_error(nllb, nllb2, n);
  const double cov = n >= 10 ? (cross / n - (nll / n) * (nllb / n)) / (double)(n - 1) : 0.0;
  st.mean_kl = mean_and_error(kld, kld2, n);
  const double top = (double)same / (double)n;
  st.same_top = {top, std::sqrt(top * (1 - top) / (double)(n - 1))};
  const double ppl = std::exp(lp.value), pplb = std::exp(lb.value);
  st.ppl_base = {pplb, pplb * lb.error};
  st.log_ppl_ratio = {lp.value - lb.value, std::sqrt(lp.error * lp.error + lb.error * lb.error - 2 * cov)};
  const double unc = ppl * lp.error, uncb = pplb * lb.error;
  st.ppl_diff = {ppl - pplb, std::sqrt(unc * unc + uncb * uncb - 2 * ppl * pplb * cov)};
  const ValueError mse = mean_and_error(dp2, dp4, n);
  const double rms = std::sqrt(mse.value);
  st.rms_dp = {rms, rms > 0 ? 0.5 / rms * mse.error : 0.0};
  st.cor_log_ppl = lp.error > 0 && lb.error > 0 ? cov / (lp.error * lb.error) : 0.0;
  const size_t m = kls.size();
  st.median_kl = m % 2 == 0 ? 0.5 * (kls[m / 2] + kls[m / 2 - 1]) : kls[m / 2];
  st.p90_kl = percentile(kls, 0.90);
  st.p99_kl = percentile(kls, 0.99);
  st.p999_kl = percentile(kls, 0.999);
  st.max_kl = kls.back();
  return st;
}

}  // namespace

PerplexityResult evaluate_perplexity(ops::Context& ctx, const models::Model& model,
                                     const tokenizer::Tokenizer& tok, std::string text, const PerplexityOptions& opts,
                                     const models::Model* base) {
  LLAMBA_ENSURE(opts.ctx >= 4, "context size {} is too small (at least 4 tokens per chunk)", opts.ctx);
  if (!text.empty() && text.back() == '\n') text.pop_back();  // as llama.cpp's -f
  PerplexityResult r;
  r.ctx = opts.ctx;
  r.add_bos = tok.add_bos_default() && tok.bos_id() >= 0;
  const std::vector<int32_t> tokens = tok.encode(text, r.add_bos, false);
  r.n_text_tokens = (int64_t)tokens.size();
  LLAMBA_ENSURE(r.n_text_tokens >= 2 * opts.ctx,
                "the text tokenizes to only {} tokens; perplexity with a context of {} needs at least {}",
                r.n_text_tokens, opts.ctx, 2 * opts.ctx);
  const int64_t max_chunks = r.n_text_tokens / opts.ctx;
  r.n_chunks = opts.chunks < 0 ? max_chunks : std::min(opts.chunks, max_chunks);
  LLAMBA_ENSURE(r.n_chunks >= 1, "--chunks {} leaves nothing to evaluate", opts.chunks);
  const int64_t first = opts.ctx / 2;
  std::vector<Sequence> seqs((size_t)r.n_chunks);
  for (int64_t c = 0; c < r.n_chunks; ++c) {
    seqs[c].tokens.assign(tokens.begin() + c * opts.ctx, tokens.begin() + (c + 1) * opts.ctx);
    if (r.add_bos) seqs[c].tokens[0] = tok.bos_id();
    seqs[c].first = first;
  }
  double nll = 0, nll2 = 0;
  int64_t count = 0;
  ScorerOptions so;
  so.batch = opts.batch;
  so.progress = opts.progress;
  so.label = "perplexity";
  so.status = [&] { return count ? fmt::format("[{}] {:.4f}", r.running.size(), std::exp(nll / count)) : ""; };
  Scorer scorer(ctx, model, base, so);
  const auto scores = scorer.score(seqs, [&](size_t, const SequenceScores& s) {
    for (double lp : s.logprob) nll -= lp, nll2 += lp * lp;
    count += (int64_t)s.logprob.size();
    r.running.push_back(std::exp(nll / (double)count));
  });
  r.count = count;
  const double mean = nll / (double)count;
  const double var = nll2 / (double)count - mean * mean;
  r.ppl = {std::exp(mean), var > 0 ? std::sqrt(var / (double)(count - 1)) * std::exp(mean) : 0.0};
  if (base) r.kl = kl_stats(scores);
  r.forward_seconds = scorer.forward_seconds();
  return r;
}

void require_same_tokenizer(const tokenizer::Tokenizer& a, const tokenizer::Tokenizer& b,
                            const std::string& base) {
  LLAMBA_ENSURE(a.vocab_size() == b.vocab_size(), "{}: the base model's vocabulary has {} tokens, the model's {}",
                base, b.vocab_size(), a.vocab_size());
  for (int32_t id = 0; id < a.vocab_size(); ++id)
    LLAMBA_ENSURE(a.token_bytes(id) == b.token_bytes(id), "{}: the base model's token {} differs from the model's",
                  base, id);
}

}  // namespace llamba::eval
