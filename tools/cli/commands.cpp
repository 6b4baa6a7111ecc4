// The list of subcommand groups.
#include "cli/commands.h"

namespace llamba::cli {

void register_all(CLI::App& app) {
  register_info(app);
  register_convert(app);
  register_train(app);
  register_make_task(app);
}

// Until the tokenizer library lands, converted files carry no tokenizer.
void add_tokenizer_if_present(const std::string&, io::GgufWriter&) {}

}  // namespace llamba::cli
