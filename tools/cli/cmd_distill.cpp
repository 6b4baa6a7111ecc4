// `llamba distill`: MOHAWK, a Llama teacher distilled into a Llamba student (stages 1-3, src/distill), and
// `llamba distill init`, the student of the teacher's shape before any stage.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/range_check.h"
#include "distill/run.h"
#include "distill/student_init.h"
#include "train/checkpoint.h"

namespace llamba::cli {

namespace {

struct DistillFlags {
  std::string teacher, config, data, out = "distill-out", student;
  int64_t tokens = -1, max_steps = -1;
  int threads = 0;
  bool resume = false, quiet = false;
};

struct InitFlags {
  std::string teacher, out, init = "mohawk";
  int64_t d_state = 64, chunk_size = 64, seed = 1;
};

nlohmann::json read_json(const std::string& path) {
  nlohmann::json j = nlohmann::json::object();
  if (path.empty()) return j;
  std::ifstream in(path);
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    LLAMBA_THROW("{}: invalid JSON: {}", path, e.what());
  }
  return j;
}

void print_report(const distill::DistillReport& r) {
  for (const auto& s : r.stages)
    fmt::print(
        "stage {}: {} steps, {:.2f} M tokens, {:.0f} s ({:.0f} tok/s); loss {:.4f} -> {:.4f}; held-out LM loss "
        "{:.4f}\n",
        s.stage, s.steps, s.tokens / 1e6, s.seconds, s.seconds > 0 ? s.tokens / s.seconds : 0.0, s.first_loss,
        s.last_loss, s.held_out.loss);
  for (const auto& s : r.stages)
    if (s.seconds > 0 && s.sgemm_rate > 0)
      fmt::print(
          "stage {}: projections {:.1f} GFLOP/s over the stage's wall time = {:.0f} % of this machine's sgemm "
          "({:.1f} GFLOP/s, measured at the stage's start); in the median step {:.1f} GFLOP/s = {:.0f} %\n",
          s.stage, s.gemm_flops / s.seconds / 1e9, 100 * s.gemm_flops / s.seconds / s.sgemm_rate, s.sgemm_rate / 1e9,
          s.step_gemm_rate / 1e9, 100 * s.step_gemm_rate / s.sgemm_rate);
  if (r.finished)
    fmt::print("student {}\n", r.student_path);
  else
    fmt::print("stopped by --max-steps; --resume continues\n");
}

void register_init(CLI::App* parent) {
  auto* cmd = parent->add_subcommand("init", "Write the Llamba student of a Llama teacher's shape (no training)");
  static InitFlags f;
  cmd->add_option("--teacher", f.teacher, "Llama GGUF")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", f.out, "Student GGUF to write")->required();
  cmd->add_option("--init", f.init,
                  "mohawk (gate open, identity conv), attention (mixer from W_q/W_k/W_v/W_o) or random (nothing "
                  "copied but the tokenizer)")
      ->check(CLI::IsMember({"mohawk", "attention", "random"}));
  cmd->add_option("--d-state", f.d_state, "SSM state size N")->check(in_range(int64_t(1), int64_t(4096)));
  cmd->add_option("--chunk-size", f.chunk_size, "Chunk length of the student's chunked scan")
      ->check(in_range(int64_t(1), int64_t(65536)));
  cmd->add_option("--seed", f.seed, "Seed of the fresh mixer rows");
  cmd->callback([] {
    const distill::Teacher t = distill::load_teacher(f.teacher);
    const distill::StudentSpec spec{distill::init_from_name(f.init), f.d_state, f.chunk_size, (uint64_t)f.seed};
    const train::WritableModelFile s = distill::make_student(t, spec);
    const auto model = models::load_model(*s.file);
    train::save_model(f.out, *s.file, train::ParameterSet(*model));
    fmt::print("wrote {} ({} init, {} layers, N {})\n", f.out, f.init, t.config.n_layers, f.d_state);
  });
}

}  // namespace

void register_distill(CLI::App& app) {
  auto* cmd = app.add_subcommand("distill", "Distill a Llama teacher into a Llamba student with MOHAWK (stages 1-3)");
  static DistillFlags f;
  cmd->add_option("--teacher", f.teacher, "Llama GGUF (dequantized to f32 once)")->check(CLI::ExistingFile);
  cmd->add_option("--config", f.config, "JSON: init, d_state, seed, stages [{stage, tokens, lr, batch, ...}]")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", f.data, "Token shard directory (llamba prepare-data with the teacher's tokenizer)");
  cmd->add_option("--tokens", f.tokens, "Total token budget split 0.3/2.7/5 over stages 1-3 (instead of \"stages\")")
      ->check(in_range(int64_t(1), int64_t(1) << 50));
  cmd->add_option("-o,--out", f.out, "Run folder: log.csv, checkpoint.gguf, stage<N>.gguf, student.gguf, plots");
  cmd->add_option("--student", f.student, "Start from this Llamba GGUF instead of `distill init`")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--resume", f.resume, "Continue OUT/checkpoint.gguf (its stored config is used)");
  cmd->add_option("--max-steps", f.max_steps, "Stop after N optimizer steps in this call (checkpointed)")
      ->check(in_range(int64_t(0), int64_t(1) << 40));
  cmd->add_option("-t,--threads", f.threads, "CPU threads (default: all)")->check(in_range(0, 1024));
  cmd->add_flag("-q,--quiet", f.quiet, "No progress bar");
  register_init(cmd);
  cmd->require_subcommand(0, 1);
  cmd->callback([cmd] {
    if (cmd->got_subcommand("init")) return;
    LLAMBA_ENSURE(!f.teacher.empty() && !f.data.empty(), "distill: --teacher and --data are required");
    distill::DistillConfig cfg;
    if (!f.resume) {
      nlohmann::json j = read_json(f.config);
      if (f.tokens > 0) {
        j.erase("stages");
        j["tokens"] = f.tokens;
      }
      LLAMBA_ENSURE(j.contains("stages") || j.contains("tokens"),
                    "distill: give --tokens or a --config with \"stages\"");
      try {
        cfg = distill::DistillConfig::from_json(j);
      } catch (const Error& e) {
        LLAMBA_THROW("{}{}", f.config.empty() ? "" : f.config + ": ", e.what());
      }
    }
    ops::Context ctx(f.threads);
    ctx.set_gemm(ops::Gemm::kBlas);  // training needs no bit-exact batch invariance; OpenBLAS is faster
    distill::DistillOptions o{f.teacher, f.data, f.out, f.student, f.resume, !f.quiet, f.max_steps};
    print_report(distill::run_distill(ctx, cfg, o));
  });
}

}  // namespace llamba::cli
