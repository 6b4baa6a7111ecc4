// evaluate_task: per-horizon answer accuracy on a synthetic task's held-out split.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/check.h"
#include "models/model.h"
#include "train/data/tasks.h"
#include "train/data/token_shards.h"

namespace llamba::train {

const char* TaskEval::bucket_name(int b) {
  static const char* names[kBuckets] = {"1-8", "9-16", "17-32", "33-64", "65-128", "129+"};
  return names[b];
}

TaskEval evaluate_task(ops::Context& ctx, const models::Model& model, const std::string& dir) {
  std::ifstream in(std::filesystem::path(dir) / "meta.json");
  LLAMBA_ENSURE(in.good(), "{}/meta.json: cannot open", dir);
  const nlohmann::json meta = nlohmann::json::parse(in);
  LLAMBA_ENSURE(meta.contains("task") && meta.contains("length") && meta.contains("query_id"),
                "{}/meta.json: not a synthetic task directory (no task/length/query_id)", dir);
  const int64_t L = meta["length"].get<int64_t>();
  const int32_t query = meta["query_id"].get<int32_t>(), reset = meta["reset_id"].get<int32_t>();
  const ShardSet data = open_shard_dir(dir);
  LLAMBA_ENSURE(!data.val.empty(), "{}: no held-out shard", dir);
  const TokenShard& val = data.val[0];
  const int64_t V = model.info().n_vocab;
  TaskEval r;
  std::vector<int32_t> ep(L);
  std::vector<float> logits(L * V);
  for (int64_t start = 0; start + L < val.size(); start += L) {
    for (int64_t t = 0; t < L; ++t) ep[t] = val[start + t];
    auto state = model.new_state();
    models::SequenceState* sp = state.get();
    models::ForwardOptions o;
    o.all_logits = true;
    model.forward(ctx, ep, 1, {&sp, 1}, core::view_f32(logits, {1, L, V}), o);
    int64_t last_reset = 0;
    for (int64_t t = 0; t + 1 < L; ++t) {
      if (ep[t] == reset) last_reset = t;
      if (ep[t] != query) continue;
      const int64_t h = t - last_reset;
      const int b = h <= 8 ? 0 : h <= 16 ? 1 : h <= 32 ? 2 : h <= 64 ? 3 : h <= 128 ? 4 : 5;
      const float* row = logits.data() + t * V;
      const bool ok = (std::max_element(row, row + V) - row) == ep[t + 1];
      r.correct[b] += ok;
      r.total[b] += 1;
      r.all_correct += ok;
      r.all_total += 1;
    }
  }
  return r;
}

}  // namespace llamba::train
