// `llamba make-task`: write a synthetic long-range task as token shards (see src/train/data/tasks.h).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/range_check.h"
#include "train/data/tasks.h"

namespace llamba::cli {

void register_make_task(CLI::App& app) {
  auto* cmd = app.add_subcommand("make-task", "Write a synthetic task (memory-horizon) as token shards");
  static train::TaskConfig c;
  static std::string out;
  cmd->add_option("task", c.name, "Task name")->check(CLI::IsMember({"memory-horizon"}));
  cmd->add_option("-o,--out", out, "Output shard directory")->required();
  cmd->add_option("--length", c.length, "Tokens per episode (use it as seq_len)")->check(in_range(4, 1 << 20));
  cmd->add_option("--n-train", c.n_train, "Training episodes")->check(in_range(1, 1 << 26));
  cmd->add_option("--n-val", c.n_val, "Held-out episodes")->check(in_range(1, 1 << 26));
  cmd->add_option("--n-values", c.n_values, "Distinct value tokens")->check(in_range(2, 1 << 16));
  cmd->add_option("--p-reset", c.p_reset, "RESET probability per position")->check(in_range(0.0, 0.9));
  cmd->add_option("--p-query", c.p_query, "QUERY probability per position")->check(in_range(0.0, 0.9));
  cmd->add_option("--seed", c.seed, "Generator seed");
  cmd->callback([] {
    const auto info = train::write_task(c, out);
    fmt::print("wrote {}: vocab {}, RESET {}, QUERY {} — train with \"seq_len\": {}, \"loss_after_token\": {}\n", out,
               info.vocab_size, info.reset_id, info.query_id, c.length, info.query_id);
  });
}

}  // namespace llamba::cli
