// The list of subcommand groups.
#include "cli/commands.h"

namespace llamba::cli {

void register_all(CLI::App& app) {
  register_info(app);
  register_convert(app);
  register_tokenize(app);
  register_run(app);
  register_chat(app);
  register_train(app);
  register_make_task(app);
  register_prepare_data(app);
  register_eval_task(app);
  register_quantize(app);
  register_eval(app);
  register_distill(app);
  register_bench(app);
  register_serve(app);
}

}  // namespace llamba::cli
