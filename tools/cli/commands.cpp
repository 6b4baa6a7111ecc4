// The list of subcommand groups.
#include "cli/commands.h"

namespace llamba::cli {

void register_all(CLI::App& app) {
  register_info(app);
  register_convert(app);
  register_tokenize(app);
}

}  // namespace llamba::cli
