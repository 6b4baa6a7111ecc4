// `llamba run`: generate a continuation of a prompt, streamed to stdout; timings to stderr.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/generation_flags.h"
#include "cli/memory_flag.h"
#include "io/gguf.h"
#include "runtime/generate.h"
#include "runtime/memory_budget.h"
#include "tokenizer/tokenizer.h"

namespace llamba::cli {

namespace {
struct RunFlags {
  GenerationFlags gen;
  std::string prompt, prompt_file, save_state, load_state, max_memory;
  bool special = false, bos = false, no_bos = false, chat = false, no_display_prompt = false, verbose = false;
};

void print_stats(const runtime::GenerateStats& s, const runtime::Session& session) {
  std::fprintf(stderr, "\n[llamba] prompt %lld tokens in %.3f s (%.1f tok/s); generated %lld tokens in %.3f s (%.1f tok/s); "
               "stop: %s; state %.2f MiB\n",
               (long long)s.n_prompt, s.prefill_s, s.prefill_s > 0 ? s.n_prompt / s.prefill_s : 0.0,
               (long long)s.n_generated, s.decode_s, s.decode_s > 0 ? s.n_generated / s.decode_s : 0.0,
               s.stop_reason.c_str(), session.state_bytes() / 1048576.0);
}
}  // namespace

void register_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Continue a prompt (stops at end-of-generation or -n tokens)");
  static RunFlags f;
  f.gen.add_to(cmd);
  auto* p = cmd->add_option("-p,--prompt", f.prompt, "Prompt text");
  cmd->add_option("-f,--file", f.prompt_file, "Read the prompt from a file")->excludes(p);
  cmd->add_flag("--special", f.special, "Parse special tokens (e.g. <|im_start|>) in the prompt");
  auto* bos = cmd->add_flag("--bos", f.bos, "Prepend BOS (default: the model's own setting)");
  cmd->add_flag("--no-bos", f.no_bos, "Never prepend BOS")->excludes(bos);
  cmd->add_flag("--chat", f.chat, "Wrap the prompt in the model's chat template as one user turn");
  cmd->add_flag("--no-display-prompt", f.no_display_prompt, "Do not echo the prompt");
  cmd->add_option("--load-state", f.load_state, "Continue from a state saved with --save-state");
  cmd->add_option("--save-state", f.save_state, "Save the sequence state after generating");
  cmd->add_flag("-v,--verbose", f.verbose, "Print the prompt tokens and the seed");
  add_max_memory(cmd, f.max_memory);
  cmd->callback([] {
    const runtime::MemoryLimit limit = runtime::memory_limit(f.max_memory);  // a bad size fails before loading
    std::string text = f.prompt;
    if (!f.prompt_file.empty()) {
      std::ifstream in(f.prompt_file, std::ios::binary);
      LLAMBA_ENSURE(in.good(), "{}: cannot read the prompt file", f.prompt_file);
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    LoadedModel m = load(resolve_model_path(f.gen.model));
    const auto tok = tokenizer::Tokenizer::from_gguf(*m.file);
    LLAMBA_ENSURE(!text.empty() || !f.load_state.empty(), "give a prompt with -p or -f (or --load-state)");
    // The tokens a loaded state holds (read before anything is allocated for it).
    const int64_t past = f.load_state.empty()
                             ? 0
                             : std::clamp<int64_t>(io::GgufFile::open(f.load_state).get_int("state.n_past", 0), 0,
                                                   int64_t(1) << 24);  // KvCache::load's range
    std::vector<int32_t> ids;
    if (f.chat) {
      ids = tok->encode(tok->apply_chat_template({{"user", text}}, true), false, true);
    } else {
      const bool add_bos = f.no_bos ? false : (f.bos || (past == 0 && tok->add_bos_default()));
      ids = tok->encode(text, add_bos, f.special);
    }
    const runtime::GenerateOptions opts = f.gen.options();
    runtime::require_fits(
        runtime::estimate_memory(*m.model, runtime::generation_workload(*m.model, past, (int64_t)ids.size(),
                                                                         opts.max_tokens)),
        limit, "llamba run", "generate fewer tokens (-n) or give a shorter prompt, or raise --max-memory");
    ops::Context ctx(f.gen.threads);
    runtime::Session session(*m.model, ctx);
    if (!f.load_state.empty()) session.load_state(f.load_state);
    if (f.verbose) {
      std::string s;
      for (int32_t id : ids) s += fmt::format("{} ", id);
      std::fprintf(stderr, "[llamba] seed %llu; prompt ids: %s\n", (unsigned long long)opts.sampling.seed, s.c_str());
    }
    if (!f.no_display_prompt && !f.chat) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    const auto stats = runtime::generate(session, *tok, ids, opts, [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::fputc('\n', stdout);
    print_stats(stats, session);
    if (!f.save_state.empty()) {
      if (stats.stop_reason == "length" && !stats.tokens.empty()) session.decode(stats.tokens.back());
      session.save_state(f.save_state);
      std::fprintf(stderr, "[llamba] state saved to %s (%lld tokens)\n", f.save_state.c_str(),
                   (long long)session.n_past());
    }
  });
}

}  // namespace llamba::cli
