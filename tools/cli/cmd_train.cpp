// `llamba train`: train a student architecture on token shards (from `llamba prepare-data` or `llamba make-task`)
// with a progress bar, a CSV log, periodic held-out loss, checkpoints that `--resume` continues bit-exactly, and a
// PNG loss curve.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/range_check.h"
#include "train/trainer.h"

namespace llamba::cli {

namespace {
struct TrainFlags {
  std::string arch, config, data, out = "train-out", init;
  int64_t steps = -1;
  int64_t seed = -1;
  int threads = 0;
  bool resume = false, quiet = false;
};
}  // namespace

void register_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a gateloop, llamba or mamba2 model on token shards");
  static TrainFlags f;
  cmd->add_option("--arch", f.arch, "Architecture (overrides the config's \"arch\")")
      ->check(CLI::IsMember({"gateloop", "llamba", "mamba2"}));
  cmd->add_option("--config", f.config, "JSON training config (model sizes, batch, schedule, ...)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", f.data, "Shard directory with meta.json")->required();
  cmd->add_option("--steps", f.steps, "Optimizer steps (overrides the config)")->check(in_range(int64_t(0), int64_t(1) << 40));
  cmd->add_option("--seed", f.seed, "Seed for init and data order (overrides the config)");
  cmd->add_option("-o,--out", f.out, "Output directory: log.csv, checkpoint.gguf, loss.png");
  cmd->add_flag("--resume", f.resume, "Continue from OUT/checkpoint.gguf");
  cmd->add_option("--init", f.init, "Start from this GGUF model instead of a random init");
  cmd->add_option("-t,--threads", f.threads, "CPU threads (default: all)")->check(in_range(0, 1024));
  cmd->add_flag("-q,--quiet", f.quiet, "No progress bar");
  cmd->callback([] {
    nlohmann::json j = nlohmann::json::object();
    if (!f.config.empty()) {
      std::ifstream in(f.config);
      try {
        in >> j;
      } catch (const nlohmann::json::exception& e) {
        LLAMBA_THROW("{}: invalid JSON: {}", f.config, e.what());
      }
    }
    if (!f.arch.empty()) j["arch"] = f.arch;
    LLAMBA_ENSURE(j.contains("arch"), "give --arch or an \"arch\" in --config");
    if (f.steps >= 0) j["steps"] = f.steps;
    if (f.seed >= 0) j["seed"] = f.seed;
    train::TrainConfig cfg;
    try {
      cfg = train::TrainConfig::from_json(j);
    } catch (const Error& e) {
      LLAMBA_THROW("{}{}", f.config.empty() ? "" : f.config + ": ", e.what());
    }
    const train::ShardSet data = train::open_shard_dir(f.data);
    const std::string ckpt = (std::filesystem::path(f.out) / "checkpoint.gguf").string();
    LLAMBA_ENSURE(!f.resume || std::filesystem::exists(ckpt), "--resume: {} does not exist", ckpt);
    ops::Context ctx(f.threads);
    ctx.set_gemm(ops::Gemm::kBlas);  // training needs no bit-exact batch invariance; OpenBLAS is faster
    train::Trainer t(ctx, cfg, data, f.resume ? ckpt : "", f.init);
    fmt::print(stderr, "[llamba] {} with {:.2f} M parameters; {} train / {} held-out shards; from step {}\n",
               t.config().arch, t.params().numel() / 1e6, data.train.size(), data.val.size(), t.steps_done());
    train::RunOptions opts;
    opts.out_dir = f.out;
    opts.progress_bar = !f.quiet;
    const auto r = train::run_training(t, opts);
    fmt::print("held-out loss {:.4f} accuracy {:.4f} ({} positions); checkpoint {}\n", r.loss, r.accuracy, r.n, ckpt);
  });
}

}  // namespace llamba::cli
