// `llamba info MODEL`: architecture, sizes, tensors and memory per sequence.
#include <fmt/format.h>

#include "cli/commands.h"
#include "io/gguf.h"

namespace llamba::cli {

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a model file's metadata and tensors");
  static std::string path;
  cmd->add_option("model", path, "GGUF file")->required();
  cmd->callback([] {
    auto f = io::GgufFile::open(path);
    fmt::print("{}: GGUF v{}, {} metadata keys, {} tensors\n", f.path(), f.version(), f.metadata().size(),
               f.tensors().size());
    for (const auto& [k, v] : f.metadata()) fmt::print("  {} = {}\n", k, v.summary());
    for (const auto& t : f.tensors())
      fmt::print("  {:32} {:6} {}\n", t.name, core::dtype_name(t.dtype), t.shape.str());
  });
}

}  // namespace llamba::cli
