// Sampler: candidates sorted by logit, filtered, softmaxed at the temperature, drawn with the Rng.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/check.h"

namespace llamba::runtime {

Sampler::Sampler(const SamplerParams& p) : p_(p), rng_(p.seed) {
  LLAMBA_ENSURE(p.temperature >= 0, "temperature must be >= 0, got {}", p.temperature);
  LLAMBA_ENSURE(p.top_p > 0, "top-p must be > 0, got {}", p.top_p);
  LLAMBA_ENSURE(p.min_p >= 0 && p.min_p <= 1, "min-p must be in [0, 1], got {}", p.min_p);
  LLAMBA_ENSURE(p.repeat_penalty > 0, "repeat penalty must be > 0, got {}", p.repeat_penalty);
  LLAMBA_ENSURE(std::isfinite(p.presence_penalty) && std::isfinite(p.frequency_penalty),
                "presence and frequency penalties must be finite");
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const int32_t V = (int32_t)logits.size();
  LLAMBA_CHECK(V > 0);
  cand_.resize(V);
  for (int32_t i = 0; i < V; ++i) cand_[i] = {logits[i], i};
  const bool penalize = p_.repeat_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
  if (penalize && p_.repeat_last_n != 0) {
    const size_t n = p_.repeat_last_n < 0 ? history.size() : std::min(history.size(), (size_t)p_.repeat_last_n);
    std::unordered_map<int32_t, int32_t> count;
    for (auto it = history.end() - n; it != history.end(); ++it) ++count[*it];
    for (const auto [id, c] : count) {
      if (id < 0 || id >= V) continue;
      float& l = cand_[id].first;
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
      l -= (float)c * p_.frequency_penalty + p_.presence_penalty;
    }
  }
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  if (p_.temperature == 0.0f) return std::min_element(cand_.begin(), cand_.end(), by_logit)->second;

  size_t n = cand_.size();
  if (p_.top_k > 0 && (size_t)p_.top_k < n) {
    std::partial_sort(cand_.begin(), cand_.begin() + p_.top_k, cand_.end(), by_logit);
    n = p_.top_k;
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }
  // Probabilities at temperature 1 for the top-p / min-p filters (llama.cpp applies the temperature last).
  const float mx = cand_[0].first;
  std::vector<double> pr(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (pr[i] = std::exp((double)cand_[i].first - mx));
  if (p_.top_p < 1.0f) {
    double acc = 0;
    size_t keep = n;
    for (size_t i = 0; i < n; ++i) {
      acc += pr[i] / sum;
      if (acc >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
  }
  if (p_.min_p > 0.0f) {
    size_t keep = 1;
    while (keep < n && pr[keep] >= p_.min_p * pr[0]) ++keep;  // pr[0] is the max
    n = keep;
  }
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += (pr[i] = std::exp(((double)cand_[i].first - mx) / p_.temperature));
  double r = rng_.uniform() * total;
  for (size_t i = 0; i < n; ++i) {
    r -= pr[i];
    if (r < 0) return cand_[i].second;
  }
  return cand_[n - 1].second;
}

}  // namespace llamba::runtime
