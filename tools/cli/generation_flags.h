// Model, threading and sampling flags shared by `run`, `chat` (and later `serve`), with validation.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "runtime/generate.h"

namespace llamba::cli {

struct GenerationFlags {
  std::string model;
  int threads = 0;
  int64_t n_predict = 256;
  float temp = 0.8f, top_p = 0.95f, min_p = 0.05f, repeat_penalty = 1.0f;
  int32_t top_k = 40, repeat_last_n = 64;
  int64_t seed = -1;
  bool ignore_eos = false;
  std::vector<std::string> stop;

  void add_to(CLI::App* cmd);
  // Options for generate(); a seed of -1 becomes a time-based one (printed with --verbose).
  runtime::GenerateOptions options() const;
};

}  // namespace llamba::cli
