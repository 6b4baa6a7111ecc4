// `llamba eval perplexity | lambada | blimp`: quality measures (src/eval); a table on stdout (or --json), a
// progress bar on stderr.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/memory_flag.h"
#include "cli/range_check.h"
#include "eval/memory_need.h"
#include "eval/perplexity.h"
#include "eval/tasks.h"
#include "io/xz.h"
#include "tokenizer/tokenizer.h"

namespace llamba::cli {

namespace {

struct EvalFlags {
  std::string model, file, dir, kl_base, max_memory;
  int threads = 0;
  int64_t ctx = 512, chunks = -1, batch = 0, limit = -1;
  bool json = false, quiet = false, per_paradigm = false;
};

void add_common(CLI::App* cmd, EvalFlags& f) {
  cmd->add_option("-m,--model", f.model, "GGUF model (default: the installed default model)");
  cmd->add_option("-t,--threads", f.threads, "CPU threads (default: all)")->check(in_range(0, 1024));
  cmd->add_option("-b,--batch", f.batch, "Sequences per forward (default: 4 chunks for perplexity, 16 otherwise)")
      ->check(in_range<int64_t>(1, 4096));
  cmd->add_flag("--json", f.json, "Print the result as JSON");
  cmd->add_flag("-q,--quiet", f.quiet, "No progress bar");
  add_max_memory(cmd, f.max_memory);
}

constexpr const char* kEvalHint = "lower -b/--batch (or -c/--ctx), or raise --max-memory";

nlohmann::json ve(const eval::ValueError& v) { return {{"value", v.value}, {"error", v.error}}; }

void run_perplexity(const EvalFlags& f) {
  const runtime::MemoryLimit limit = runtime::memory_limit(f.max_memory);
  const std::string path = resolve_model_path(f.model);
  LoadedModel m = load(path);
  const auto tok = tokenizer::Tokenizer::from_gguf(*m.file);
  LoadedModel base;
  if (!f.kl_base.empty()) {
    base = load(f.kl_base);
    eval::require_same_tokenizer(*tok, *tokenizer::Tokenizer::from_gguf(*base.file), f.kl_base);
  }
  eval::PerplexityOptions o;
  o.ctx = f.ctx;
  o.chunks = f.chunks;
  o.batch = f.batch > 0 ? f.batch : 4;
  runtime::require_fits(eval::scoring_memory_need(*m.model, base.model.get(), o.batch, o.ctx, o.ctx / 2),
                        limit, "llamba eval perplexity", kEvalHint);
  ops::Context ctx(f.threads);
  o.progress = !f.quiet;
  const eval::PerplexityResult r =
      eval::evaluate_perplexity(ctx, *m.model, *tok, io::read_text_file(f.file), o, base.model.get());
  if (f.json) {
    nlohmann::json j = {{"model", path}, {"file", f.file}, {"ctx", r.ctx}, {"chunks", r.n_chunks},
                        {"text_tokens", r.n_text_tokens}, {"scored_tokens", r.count}, {"add_bos", r.add_bos},
                        {"ppl", ve(r.ppl)}, {"running", r.running}, {"forward_seconds", r.forward_seconds},
                        {"tokens_per_second", r.tokens_per_second()}};
    if (r.kl) {
      const eval::KlStats& k = *r.kl;
      j["kl_base"] = f.kl_base;
      j["kl"] = {{"mean", ve(k.mean_kl)}, {"median", k.median_kl}, {"p90", k.p90_kl}, {"p99", k.p99_kl},
                 {"p99_9", k.p999_kl}, {"max", k.max_kl}, {"same_top", ve(k.same_top)},
                 {"ppl_base", ve(k.ppl_base)}, {"ln_ppl_ratio", ve(k.log_ppl_ratio)}, {"ppl_diff", ve(k.ppl_diff)},
                 {"rms_dp", ve(k.rms_dp)}, {"cor_ln_ppl", k.cor_log_ppl}};
    }
    fmt::print("{}\n", j.dump(1));
    return;
  }
  fmt::print("perplexity of {} on {}: {} chunks of {} tokens ({} tokens in the text; BOS first: {})\n", path, f.file,
             r.n_chunks, r.ctx, r.n_text_tokens, r.add_bos ? "yes" : "no");
  std::string running;
  for (size_t i = 0; i < r.running.size(); ++i) running += fmt::format("[{}]{:.4f},", i + 1, r.running[i]);
  fmt::print("{}\nFinal estimate: PPL = {:.4f} +/- {:.5f}\n", running, r.ppl.value, r.ppl.error);
  if (r.kl) {
    const eval::KlStats& k = *r.kl;
    fmt::print("\n====== against the base model {} ======\n", f.kl_base);
    fmt::print("Mean PPL(base)                : {:10.6f} ± {:10.6f}\n", k.ppl_base.value, k.ppl_base.error);
    fmt::print("Mean ln(PPL(Q)/PPL(base))     : {:10.6f} ± {:10.6f}\n", k.log_ppl_ratio.value, k.log_ppl_ratio.error);
    fmt::print("Mean PPL(Q)-PPL(base)         : {:10.6f} ± {:10.6f}\n", k.ppl_diff.value, k.ppl_diff.error);
    fmt::print("Cor(ln(PPL(Q)), ln(PPL(base))): {:6.2f}%\n", 100 * k.cor_log_ppl);
    fmt::print("Mean    KLD: {:10.6f} ± {:10.6f}\n", k.mean_kl.value, k.mean_kl.error);
    fmt::print("Maximum KLD: {:10.6f}\n99.9%   KLD: {:10.6f}\n99.0%   KLD: {:10.6f}\n90.0%   KLD: {:10.6f}\n"
               "Median  KLD: {:10.6f}\n",
               k.max_kl, k.p999_kl, k.p99_kl, k.p90_kl, k.median_kl);
    fmt::print("RMS Δp    : {:6.3f} ± {:5.3f} %\n", 100 * k.rms_dp.value, 100 * k.rms_dp.error);
    fmt::print("Same top p: {:6.3f} ± {:5.3f} %\n", 100 * k.same_top.value, 100 * k.same_top.error);
  }
  fmt::print("speed: {:.1f} tokens/s in the forward{} ({:.1f} s)\n", r.tokens_per_second(),
             r.kl ? "s of both models" : "", r.forward_seconds);
}

eval::TaskOptions task_options(const EvalFlags& f) {
  eval::TaskOptions o;
  o.batch = f.batch > 0 ? f.batch : 16;
  o.limit = f.limit;
  o.progress = !f.quiet;
  return o;
}

void run_lambada(const EvalFlags& f) {
  const runtime::MemoryLimit limit = runtime::memory_limit(f.max_memory);
  const std::string path = resolve_model_path(f.model);
  LoadedModel m = load(path);
  const auto tok = tokenizer::Tokenizer::from_gguf(*m.file);
  const std::string text = io::read_text_file(f.file);
  const eval::TaskOptions o = task_options(f);
  // A passage has fewer tokens than its line has bytes, plus BOS.
  const int64_t longest = eval::longest_line(text) + 1;
  runtime::require_fits(eval::scoring_memory_need(*m.model, nullptr, o.batch, longest, 0), limit,
                        "llamba eval lambada", kEvalHint);
  ops::Context ctx(f.threads);
  const eval::LambadaResult r = eval::evaluate_lambada(ctx, *m.model, *tok, text, f.file, o);
  if (f.json) {
    fmt::print("{}\n", nlohmann::json{{"model", path}, {"file", f.file}, {"passages", r.n}, {"correct", r.correct},
                                      {"accuracy", r.accuracy()}, {"accuracy_error", r.accuracy_error()},
                                      {"ppl_word", r.ppl_word()}, {"ppl_token", r.ppl_token()},
                                      {"target_tokens", r.target_tokens}, {"forward_seconds", r.forward_seconds}}
                           .dump(1));
    return;
  }
  fmt::print("LAMBADA, {} on {} ({} passages, {} target tokens)\n", path, f.file, r.n, r.target_tokens);
  fmt::print("accuracy    {:6.2f} % ± {:.2f} %  ({} of {} last words greedy)\n", 100 * r.accuracy(),
             100 * r.accuracy_error(), r.correct, r.n);
  fmt::print("perplexity  {:10.4f} per word (lm-eval), {:.4f} per target token\n", r.ppl_word(), r.ppl_token());
  fmt::print("speed: {:.1f} tokens/s in the forward ({:.1f} s)\n", r.tokens_run / std::max(1e-9, r.forward_seconds),
             r.forward_seconds);
}

void run_blimp(const EvalFlags& f) {
  const runtime::MemoryLimit limit = runtime::memory_limit(f.max_memory);
  const std::string path = resolve_model_path(f.model);
  LoadedModel m = load(path);
  const auto tok = tokenizer::Tokenizer::from_gguf(*m.file);
  const eval::TaskOptions o = task_options(f);
  // A sentence has fewer tokens than its line has bytes, plus the prefix token.
  const int64_t longest = eval::longest_line_in(f.dir) + 1;
  runtime::require_fits(eval::scoring_memory_need(*m.model, nullptr, o.batch, longest, 0), limit,
                        "llamba eval blimp", kEvalHint);
  ops::Context ctx(f.threads);
  const eval::BlimpResult r = eval::evaluate_blimp(ctx, *m.model, *tok, f.dir, o);
  auto rows = [](const std::vector<eval::BlimpCount>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& c : v) a.push_back({{"name", c.name}, {"pairs", c.n}, {"correct", c.correct},
                                         {"accuracy", c.accuracy()}});
    return a;
  };
  if (f.json) {
    fmt::print("{}\n", nlohmann::json{{"model", path}, {"dir", f.dir}, {"pairs", r.overall.n},
                                      {"accuracy", r.overall.accuracy()}, {"phenomena", rows(r.phenomena)},
                                      {"paradigms", rows(r.paradigms)}, {"forward_seconds", r.forward_seconds}}
                           .dump(1));
    return;
  }
  fmt::print("BLiMP, {} on {} ({} paradigms, {} pairs)\n\n| {:<40} | pairs | accuracy |\n|{:-<42}|------:|---------:|\n",
             path, f.dir, r.paradigms.size(), r.overall.n, f.per_paradigm ? "paradigm" : "phenomenon", "");
  for (const auto& c : f.per_paradigm ? r.paradigms : r.phenomena)
    fmt::print("| {:<40} | {:>5} | {:7.2f}% |\n", c.name, c.n, 100 * c.accuracy());
  fmt::print("| {:<40} | {:>5} | {:7.2f}% |\n", "**overall**", r.overall.n, 100 * r.overall.accuracy());
  fmt::print("\nspeed: {:.1f} tokens/s in the forward ({:.1f} s)\n",
             r.tokens_run / std::max(1e-9, r.forward_seconds), r.forward_seconds);
}

}  // namespace

void register_eval(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "Measure a model's quality: perplexity (with KL to a base), LAMBADA, BLiMP");
  eval->require_subcommand(1);
  static EvalFlags f;
  auto* ppl = eval->add_subcommand("perplexity", "Perplexity of a text, computed as llama-perplexity computes it");
  add_common(ppl, f);
  ppl->add_option("-f,--file", f.file, "Text file (.xz is decompressed), e.g. data/corpus/wikitext2_test.txt.xz")
      ->required();
  ppl->add_option("-c,--ctx", f.ctx, "Tokens per chunk (the second half is scored)")->check(in_range<int64_t>(4, 1 << 20));
  ppl->add_option("--chunks", f.chunks, "Use the first N chunks (default: all)")->check(in_range<int64_t>(1, 1 << 30));
  ppl->add_option("--kl-base", f.kl_base, "Base model (same tokenizer): KL(base || model), top-1 agreement, ΔPPL");
  ppl->callback([] { run_perplexity(f); });
  auto* lam = eval->add_subcommand("lambada", "LAMBADA last-word accuracy and perplexity (OpenAI jsonl)");
  add_common(lam, f);
  lam->add_option("-f,--file", f.file, "lambada_test.jsonl (.xz is decompressed)")->required();
  lam->add_option("--limit", f.limit, "Only the first N passages")->check(in_range<int64_t>(1, 1 << 30));
  lam->callback([] { run_lambada(f); });
  auto* bl = eval->add_subcommand("blimp", "BLiMP minimal-pair accuracy per phenomenon");
  add_common(bl, f);
  bl->add_option("-d,--dir", f.dir, "Folder of the 67 BLiMP .jsonl / .jsonl.xz files")->required();
  bl->add_option("--limit", f.limit, "Only the first N pairs of each paradigm")->check(in_range<int64_t>(1, 1 << 30));
  bl->add_flag("--per-paradigm", f.per_paradigm, "One row per paradigm (67) instead of per phenomenon (12)");
  bl->callback([] { run_blimp(f); });
}

}  // namespace llamba::cli
