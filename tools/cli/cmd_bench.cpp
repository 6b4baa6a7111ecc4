// `llamba bench`: llama-bench's test matrix for our engine (src/bench); the table on stdout, progress on stderr.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "bench/memory_need.h"
#include "bench/report.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/memory_flag.h"
#include "cli/range_check.h"
#include "core/progress.h"
#include "io/atomic_file.h"

namespace llamba::cli {

namespace {

struct BenchFlags {
  std::string model, output = "md", plot_dir, out_file, max_memory;
  bench::Spec spec;
  int64_t seed = 1234;
  bool quiet = false;
};

// The dtype holding most of the matrices' elements, as llama.cpp names file types ("Q4_1", "F32").
std::string weight_type(const models::Model& m) {
  std::map<std::string, int64_t> by_type;
  m.for_each_tensor([&](const std::string&, const core::TensorView& t) {
    if (t.rank() == 2) by_type[std::string(core::dtype_name(t.dtype))] += t.numel();
  });
  std::string best;
  int64_t most = -1;
  for (const auto& [type, n] : by_type)
    if (n > most) best = type, most = n;
  std::transform(best.begin(), best.end(), best.begin(), [](unsigned char c) { return std::toupper(c); });
  return best;
}

}  // namespace

void register_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Time prefill and decode like llama-bench (prompt/generation sizes, "
                                          "depths, concurrent sequences, threads)");
  static BenchFlags f;
  cmd->add_option("-m,--model", f.model, "GGUF model (default: the installed default model)");
  cmd->add_option("-p,--n-prompt", f.spec.prefill, "Prompt sizes to prefill, comma-separated (default 512; 0: none)")
      ->delimiter(',');
  cmd->add_option("-n,--n-gen", f.spec.decode, "Generation lengths to decode, comma-separated (default 128; 0: none)")
      ->delimiter(',');
  cmd->add_option("-d,--depth", f.spec.depths, "Tokens already in the state before each test (default 0)")
      ->delimiter(',');
  cmd->add_option("-b,--seqs", f.spec.seqs, "Sequences advanced together in one batched forward (default 1)")
      ->delimiter(',');
  cmd->add_option("-t,--threads", f.spec.threads, "CPU threads, comma-separated (default: all cores)")
      ->delimiter(',');
  cmd->add_option("-r,--repetitions", f.spec.reps, "Timed repetitions of each test (default 3)")
      ->check(in_range(1, 1000));
  cmd->add_option("-o,--output", f.output, "Output format: md, csv or json")
      ->check(CLI::IsMember({"md", "csv", "json"}));
  cmd->add_option("--out-file", f.out_file, "Write the table to this file (atomically) instead of stdout");
  cmd->add_option("--plot", f.plot_dir, "Write PNG plots (tokens/s vs depth and vs sequences, state vs context) here");
  cmd->add_option("--seed", f.seed, "Seed of the random token ids")->check(in_range<int64_t>(0, INT64_MAX));
  cmd->add_flag("-q,--quiet", f.quiet, "No progress on stderr");
  add_max_memory(cmd, f.max_memory);
  cmd->callback([] {
    const runtime::MemoryLimit limit = runtime::memory_limit(f.max_memory);  // a bad size fails first
    // "-p 0" / "-n 0" turn a kind of test off, as in llama-bench.
    std::erase(f.spec.prefill, 0);
    std::erase(f.spec.decode, 0);
    bench::validate(f.spec);
    const LoadedModel m = load(resolve_model_path(f.model));
    runtime::require_fits(bench::memory_need(*m.model, f.spec), limit, "llamba bench",
                          "give fewer sequences (-b) or smaller sizes (-p, -n, -d), or raise --max-memory");
    const bench::ModelLabel label{m.model->info().name, weight_type(*m.model), bench::model_cost(*m.model)};
    const size_t total = f.spec.threads.size() * f.spec.seqs.size() * f.spec.depths.size() *
                         (f.spec.prefill.size() + f.spec.decode.size());
    core::ProgressBar bar("bench", (int64_t)total, "tests", !f.quiet, 0);
    const auto results = bench::run(*m.model, f.spec, (uint64_t)f.seed, [&](size_t done, size_t, const auto& r) {
      bar.update((int64_t)done, fmt::format("{} b{} t{}: {:.1f} t/s", r.test(), r.seqs, r.threads,
                                            r.tokens_per_s_mean()));
    });
    bar.finish();
    const std::string table = f.output == "csv"    ? bench::csv(label, results)
                              : f.output == "json" ? bench::json(label, results)
                                                   : bench::markdown(label, results);
    if (f.out_file.empty()) {
      std::fwrite(table.data(), 1, table.size(), stdout);
    } else {
      io::AtomicFile out(f.out_file);
      out.write(table.data(), table.size());
      out.commit();
    }
    if (!f.plot_dir.empty())
      for (const std::string& p : bench::plots(f.plot_dir, label, results))
        std::fprintf(stderr, "[llamba] wrote %s\n", p.c_str());
  });
}

}  // namespace llamba::cli
