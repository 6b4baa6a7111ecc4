// Synthetic task generators.
#include "train/data/tasks.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <vector>

#include "core/check.h"
#include "core/rng.h"
#include "train/data/token_shards.h"

namespace llamba::train {

namespace {

// One memory-horizon episode of c.length tokens appended to `out`.
void memory_horizon_episode(const TaskConfig& c, const TaskInfo& info, core::Rng& rng, std::vector<int32_t>& out) {
  const int64_t start = (int64_t)out.size();
  out.push_back(info.reset_id);
  int32_t first = -1;  // first value since the last RESET
  while ((int64_t)out.size() - start < c.length) {
    const int64_t pos = (int64_t)out.size() - start;
    const double u = rng.uniform();
    // A QUERY needs room for its answer inside the episode and a value to ask about.
    if (u < c.p_query && first >= 0 && pos + 1 < c.length) {
      out.push_back(info.query_id);
      out.push_back(first);
    } else if (u < c.p_query + c.p_reset) {
      out.push_back(info.reset_id);
      first = -1;
    } else {
      const int32_t v = (int32_t)rng.below((uint64_t)c.n_values);
      out.push_back(v);
      if (first < 0) first = v;
    }
  }
}

}  // namespace

TaskInfo write_task(const TaskConfig& c, const std::string& dir) {
  LLAMBA_ENSURE(c.name == "memory-horizon", "unknown task \"{}\" (known: memory-horizon)", c.name);
  LLAMBA_ENSURE(c.length >= 4 && c.n_values >= 2 && c.n_train >= 1 && c.n_val >= 1 && c.p_reset >= 0 &&
                    c.p_query >= 0 && c.p_reset + c.p_query < 1,
                "task config: length >= 4, n_values >= 2, n_train/n_val >= 1, p_reset + p_query < 1");
  TaskInfo info;
  info.reset_id = (int32_t)c.n_values;
  info.query_id = (int32_t)c.n_values + 1;
  info.vocab_size = c.n_values + 2;
  std::filesystem::create_directories(dir);
  core::Rng rng(c.seed);
  for (const char* split : {"train", "val"}) {
    std::vector<int32_t> ids;
    const int64_t n = std::string(split) == "train" ? c.n_train : c.n_val;
    for (int64_t e = 0; e < n; ++e) memory_horizon_episode(c, info, rng, ids);
    ids.push_back(info.reset_id);  // the last window's final target (never scored)
    write_token_shard((std::filesystem::path(dir) / (std::string(split) + "_000.bin")).string(), ids, info.vocab_size);
  }
  const nlohmann::json meta = {{"version", 1},
                               {"vocab_size", info.vocab_size},
                               {"eos_id", -1},
                               {"tokenizer", "none (synthetic task)"},
                               {"task", c.name},
                               {"length", c.length},
                               {"n_values", c.n_values},
                               {"p_reset", c.p_reset},
                               {"p_query", c.p_query},
                               {"seed", c.seed},
                               {"reset_id", info.reset_id},
                               {"query_id", info.query_id},
                               {"train", {"train_000.bin"}},
                               {"val", {"val_000.bin"}},
                               {"train_tokens", c.n_train * c.length + 1},
                               {"val_tokens", c.n_val * c.length + 1}};
  std::ofstream(std::filesystem::path(dir) / "meta.json") << meta.dump(2) << "\n";
  return info;
}

}  // namespace llamba::train
