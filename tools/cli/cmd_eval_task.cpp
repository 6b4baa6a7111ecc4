// `llamba eval-task -m MODEL --data DIR`: answer accuracy on a synthetic task by horizon (see train/data/tasks.h).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/range_check.h"
#include "train/data/tasks.h"

namespace llamba::cli {

void register_eval_task(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval-task", "Accuracy of a model on a synthetic task's held-out split, by horizon");
  static std::string model, data;
  static int threads = 0;
  cmd->add_option("-m,--model", model, "GGUF model or training checkpoint")->required();
  cmd->add_option("--data", data, "Task directory written by `llamba make-task`")->required();
  cmd->add_option("-t,--threads", threads, "CPU threads (default: all)")->check(in_range(0, 1024));
  cmd->callback([] {
    LoadedModel m = load(model);
    ops::Context ctx(threads);
    const auto r = train::evaluate_task(ctx, *m.model, data);
    fmt::print("horizon,answers,accuracy\n");
    for (int b = 0; b < train::TaskEval::kBuckets; ++b)
      fmt::print("{},{},{:.4f}\n", train::TaskEval::bucket_name(b), r.total[b],
                 r.total[b] ? (double)r.correct[b] / (double)r.total[b] : 0.0);
    fmt::print("all,{},{:.4f}\n", r.all_total, r.all_total ? (double)r.all_correct / (double)r.all_total : 0.0);
  });
}

}  // namespace llamba::cli
