// Subcommand registration: each cmd_*.cpp file adds its subcommands to the app.
#pragma once

#include <CLI/CLI.hpp>

namespace llamba::cli {

void register_all(CLI::App& app);
void register_info(CLI::App& app);
void register_tokenize(CLI::App& app);

}  // namespace llamba::cli
