// Synthetic long-range tasks written as token shards (same format as prepare-data), for testing what a
// recurrence can remember and forget. Each task is a stream of independent episodes of exactly `length` tokens,
// so training windows of seq_len = length line up with episodes; answers follow a QUERY token and training
// scores only those positions (TrainConfig::loss_after_token = QUERY).
//
// memory-horizon (our reconstruction of GateLoop's Memory Horizon task; see docs/experiments.md): values
// 0..n_values-1, RESET, QUERY. An episode starts with RESET; then random values with RESETs (prob p_reset) and
// QUERYs (prob p_query) mixed in. The token after a QUERY is the answer: the first value seen after the most
// recent RESET. Solving it needs input-dependent forgetting (drop everything at RESET) and input-dependent
// writing (store the first value, then ignore the rest), over horizons up to the episode length.
#pragma once

#include <cstdint>
#include <string>

namespace llamba::train {

struct TaskConfig {
  std::string name = "memory-horizon";
  int64_t length = 128;          // tokens per episode (= the training seq_len)
  int64_t n_train = 4000, n_val = 400;  // episodes
  int64_t n_values = 16;
  double p_reset = 0.05, p_query = 0.08;
  uint64_t seed = 1;
};

struct TaskInfo {
  int64_t vocab_size = 0;
  int32_t reset_id = -1, query_id = -1;
};

// Writes DIR/train_000.bin, DIR/val_000.bin and DIR/meta.json (with "task", "query_id", "length").
TaskInfo write_task(const TaskConfig& c, const std::string& dir);

}  // namespace llamba::train

namespace llamba::models {
class Model;
}
namespace llamba::ops {
class Context;
}

namespace llamba::train {

// Answer accuracy on a task's held-out episodes, overall and by horizon (distance from the last RESET to the
// QUERY), running the model from a fresh state per episode. Buckets: 1-8, 9-16, 17-32, 33-64, 65-128, 129+.
struct TaskEval {
  static constexpr int kBuckets = 6;
  int64_t correct[kBuckets] = {}, total[kBuckets] = {};
  int64_t all_correct = 0, all_total = 0;
  static const char* bucket_name(int b);
};
TaskEval evaluate_task(ops::Context& ctx, const models::Model& model, const std::string& dir);

}  // namespace llamba::train
