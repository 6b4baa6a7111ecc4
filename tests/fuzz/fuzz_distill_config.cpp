// `llamba distill --config` (distill::DistillConfig::from_json, distill/config.cpp): JSON text parsed as the CLI
// does, then the config; whatever parses must give each stage's step count and trainer config (as the run
// does), and survive to_json -> from_json unchanged.
#include <nlohmann/json.hpp>

#include "distill/config.h"
#include "fuzz_util.h"

using namespace llamba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // the CLI reports invalid JSON itself
  }
  distill::DistillConfig c;
  if (!fuzz::expect_clean([&] { c = distill::DistillConfig::from_json(j); })) return 0;
  for (size_t i = 0; i < c.stages.size(); ++i) {
    const auto& s = c.stages[i];
    FUZZ_ASSERT(s.steps() >= 1, "stage {}: {} steps", i, s.steps());
    fuzz::expect_clean([&] { (void)s.train_config(c.seed, (int64_t)i, c.checkpoint_interval, c.log_interval); });
  }
  const nlohmann::json out = c.to_json();
  distill::DistillConfig again;
  fuzz::expect_clean([&] { again = distill::DistillConfig::from_json(out); });
  FUZZ_ASSERT(again.to_json() == out, "to_json -> from_json changed the config: {}", out.dump());
  return 0;
}
