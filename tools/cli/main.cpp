// Entry point of the `llamba` CLI: registers the subcommands and turns llamba::Error into exit code 1.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"llamba: run, convert and train recurrent language models distilled from Transformers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "llamba 0.1.0");
  llamba::cli::register_all(app);
  // An unknown first word is a mistyped command: say so instead of CLI11's "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "llamba: unknown command '%s' (commands: %s)\n", argv[1], names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llamba: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
