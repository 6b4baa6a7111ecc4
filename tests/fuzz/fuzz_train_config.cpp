// `llamba train --config` (train::TrainConfig::from_json in train/trainer.cpp and the schedule check): JSON text
// parsed as the CLI does, then the config. Whatever parses must survive to_json -> from_json unchanged, and
// its learning-rate schedule must give a finite rate at every step the run would take (sampled).
#include <cmath>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "train/trainer.h"

using namespace llamba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // the CLI reports invalid JSON itself
  }
  train::TrainConfig c;
  if (!fuzz::expect_clean([&] { c = train::TrainConfig::from_json(j); })) return 0;
  const nlohmann::json out = c.to_json();
  train::TrainConfig again;
  fuzz::expect_clean([&] { again = train::TrainConfig::from_json(out); });
  FUZZ_ASSERT(again.to_json() == out, "to_json -> from_json changed the config: {} vs {}", out.dump(),
              again.to_json().dump());
  const int64_t total = c.schedule.total_steps;
  for (const int64_t s : {int64_t(0), c.schedule.warmup_steps, total / 2, total - 1, total}) {
    if (s < 0) continue;
    const double lr = train::lr_at(c.schedule, s);
    FUZZ_ASSERT(std::isfinite(lr) && lr >= 0, "lr_at({}) = {} for {}", s, lr, out.dump());
  }
  return 0;
}
