// Sampler: greedy, the effect of each filter, temperature, repetition penalty, seeded reproducibility, bad params.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/check.h"
#include "runtime/sampler.h"

namespace llamba {
namespace {

using runtime::Sampler;
using runtime::SamplerParams;

std::map<int32_t, int> histogram(SamplerParams p, const std::vector<float>& logits, int n = 4000) {
  Sampler s(p);
  std::map<int32_t, int> h;
  for (int i = 0; i < n; ++i) h[s.sample(logits, {})]++;
  return h;
}

TEST(Sampler, GreedyTakesTheArgmaxAndBreaksTiesByLowestId) {
  SamplerParams p;
  p.temperature = 0;
  Sampler s(p);
  EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -1.0f, 2.9f}, {}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 5.0f, 5.0f}, {}), 1);
}

TEST(Sampler, TopKTopPMinPRestrictTheCandidates) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  SamplerParams p;
  p.temperature = 1;
  p.top_p = 1;
  p.min_p = 0;
  p.top_k = 2;
  auto h = histogram(p, logits);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_NEAR(h[0] / 4000.0, 0.5 / 0.8, 0.03);  // renormalized over the kept two
  p.top_k = 0;
  p.top_p = 0.9f;  // 0.5 + 0.3 + 0.15 = 0.95 >= 0.9: three tokens
  h = histogram(p, logits);
  EXPECT_EQ(h.size(), 3u);
  p.top_p = 1;
  p.min_p = 0.25f;  // keeps p >= 0.125: tokens 0, 1, 2
  h = histogram(p, logits);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.count(3), 0u);
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
  const std::vector<float> logits = {1.0f, 0.0f};
  SamplerParams p;
  p.top_k = 0;
  p.top_p = 1;
  p.min_p = 0;
  p.temperature = 1;
  const double p1 = histogram(p, logits, 8000)[0] / 8000.0;  // e / (e + 1) = 0.731
  p.temperature = 0.25f;
  const double pc = histogram(p, logits, 8000)[0] / 8000.0;  // e^4 / (e^4 + 1) = 0.982
  p.temperature = 4;
  const double ph = histogram(p, logits, 8000)[0] / 8000.0;  // e^.25 / (e^.25 + 1) = 0.562
  EXPECT_NEAR(p1, 0.731, 0.02);
  EXPECT_NEAR(pc, 0.982, 0.01);
  EXPECT_NEAR(ph, 0.562, 0.02);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 2.0f;
  Sampler s(p);
  const std::vector<float> logits = {3.0f, 2.0f, -1.0f};
  const std::vector<int32_t> history = {0};
  EXPECT_EQ(s.sample(logits, history), 1);  // 3/2 = 1.5 < 2
  p.repeat_last_n = 0;                       // penalty looks at nothing
  Sampler off(p);
  EXPECT_EQ(off.sample(logits, history), 0);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesSubtractPerSeenTokenAndPerOccurrence) {
  SamplerParams p;
  p.temperature = 0;
  const std::vector<float> logits = {3.0f, 2.5f, 2.0f};
  const std::vector<int32_t> once = {0}, thrice = {0, 0, 0, 1};
  p.presence_penalty = 0.4f;  // 3 - 0.4 = 2.6 > 2.5: still token 0
  EXPECT_EQ(Sampler(p).sample(logits, once), 0);
  p.presence_penalty = 0.6f;  // 2.4 < 2.5
  EXPECT_EQ(Sampler(p).sample(logits, once), 1);
  p.presence_penalty = 0;
  p.frequency_penalty = 0.2f;  // once: 2.8 > 2.5; three times: 2.4, token 1 seen once: 2.3, token 2: 2.0
  EXPECT_EQ(Sampler(p).sample(logits, once), 0);
  EXPECT_EQ(Sampler(p).sample(logits, thrice), 0);
  p.frequency_penalty = 0.5f;  // 1.5, 2.0, 2.0: the lowest id of the tie
  EXPECT_EQ(Sampler(p).sample(logits, thrice), 1);
  p.frequency_penalty = 0.6f;  // 1.2, 1.9, 2.0
  EXPECT_EQ(Sampler(p).sample(logits, thrice), 2);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferent) {
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[i] = std::sin((float)i);
  SamplerParams p;
  p.top_k = 0;
  p.seed = 7;
  Sampler a(p), b(p);
  p.seed = 8;
  Sampler c(p);
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    const int32_t x = a.sample(logits, {}), y = b.sample(logits, {}), z = c.sample(logits, {});
    ASSERT_EQ(x, y);
    differ += x != z;
  }
  EXPECT_GT(differ, 10);
}

TEST(Sampler, BadParametersAreErrors) {
  SamplerParams p;
  p.temperature = -1;
  EXPECT_THROW(Sampler{p}, Error);
  p = {};
  p.top_p = 0;
  EXPECT_THROW(Sampler{p}, Error);
  p = {};
  p.min_p = 2;
  EXPECT_THROW(Sampler{p}, Error);
}

}  // namespace
}  // namespace llamba
