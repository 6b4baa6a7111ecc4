// --max-memory, shared by the commands that load a model and create sequences (run, bench, eval, serve): the
// command estimates what it will need (runtime/memory_budget.h) and refuses to start when that exceeds SIZE, or,
// without the flag, when it clearly exceeds the memory the machine has available.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace llamba::cli {

inline void add_max_memory(CLI::App* cmd, std::string& size) {
  cmd->add_option("--max-memory", size,
                  "Memory the command may use: 8G, 512M or bytes (default: what the machine has available); it "
                  "refuses to start, saying what it needs, when its estimate is larger");
}

}  // namespace llamba::cli
