// Subcommand registration: each cmd_*.cpp file adds its subcommands to the app.
#pragma once

#include <CLI/CLI.hpp>

#include "io/gguf.h"

namespace llamba::cli {

void register_all(CLI::App& app);
void register_info(CLI::App& app);
void register_convert(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_run(CLI::App& app);
void register_chat(CLI::App& app);
void register_train(CLI::App& app);
void register_make_task(CLI::App& app);
void register_prepare_data(CLI::App& app);
void register_eval_task(CLI::App& app);
void register_quantize(CLI::App& app);
void register_eval(CLI::App& app);
void register_distill(CLI::App& app);
void register_bench(CLI::App& app);
void register_serve(CLI::App& app);

}  // namespace llamba::cli
