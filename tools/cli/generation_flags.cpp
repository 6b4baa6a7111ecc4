// Registration of the shared generation flags.
#include "cli/generation_flags.h"

#include <chrono>

#include "cli/range_check.h"

namespace llamba::cli {

void GenerationFlags::add_to(CLI::App* cmd) {
  cmd->add_option("-m,--model", model, "GGUF model file (default: the installed default model)");
  cmd->add_option("-t,--threads", threads, "CPU threads (default: all)")->check(in_range(0, 1024));
  cmd->add_option("-n,--n-predict", n_predict, "Tokens to generate; -1 = until end of generation")
      ->check(in_range(int64_t(-1), int64_t(1) << 40));
  cmd->add_option("--temp", temp, "Temperature; 0 = greedy")->check(in_range(0.0f, 100.0f));
  cmd->add_option("--top-k", top_k, "Top-k (0 = off)")->check(in_range(0, 1 << 24));
  cmd->add_option("--top-p", top_p, "Top-p (1 = off)")->check(in_range(0.0f, 1.0f));
  cmd->add_option("--min-p", min_p, "Min-p (0 = off)")->check(in_range(0.0f, 1.0f));
  cmd->add_option("--repeat-penalty", repeat_penalty, "Repetition penalty (1 = off)")->check(in_range(0.01f, 100.0f));
  cmd->add_option("--repeat-last-n", repeat_last_n, "Tokens the penalty looks back (-1 = all)")
      ->check(in_range(-1, 1 << 24));
  cmd->add_option("-s,--seed", seed, "Sampling seed (-1 = random)");
  cmd->add_flag("--ignore-eos", ignore_eos, "Keep generating past end-of-generation tokens");
  cmd->add_option("--stop", stop, "Stop string (repeatable)");
}

runtime::GenerateOptions GenerationFlags::options() const {
  runtime::GenerateOptions o;
  o.max_tokens = n_predict;
  o.ignore_eos = ignore_eos;
  o.stop = stop;
  o.sampling.temperature = temp;
  o.sampling.top_k = top_k;
  o.sampling.top_p = top_p;
  o.sampling.min_p = min_p;
  o.sampling.repeat_penalty = repeat_penalty;
  o.sampling.repeat_last_n = repeat_last_n;
  o.sampling.seed = seed >= 0 ? (uint64_t)seed
                              : (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count();
  return o;
}

}  // namespace llamba::cli
