// `llamba info MODEL`: architecture, sizes, memory per sequence, tokenizer, metadata and tensors.
#include <fmt/format.h>

#include <map>

#include "cli/commands.h"
#include "cli/common.h"
#include "tokenizer/tokenizer.h"

namespace llamba::cli {

namespace {
// "NAME (ID)" for a token id, or "none".
std::string token_label(const tokenizer::Tokenizer& t, int32_t id) {
  return id < 0 ? std::string("none") : fmt::format("{} ({})", t.token_bytes(id), id);
}

std::string human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  return fmt::format("{:.2f} {}", bytes, units[u]);
}
}  // namespace

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a model's architecture, sizes, memory per sequence and tensors");
  static std::string path;
  static bool metadata = false, tensors = false;
  cmd->add_option("model", path, "GGUF model file (default: the installed default model)");
  cmd->add_flag("--metadata", metadata, "Print every metadata key");
  cmd->add_flag("--tensors", tensors, "Print every tensor");
  cmd->callback([] {
    LoadedModel m = load(resolve_model_path(path));
    const io::GgufFile& f = *m.file;
    const models::ModelInfo& info = m.model->info();
    int64_t bytes = 0;
    std::map<std::string, int64_t> by_type;
    for (const auto& t : f.tensors()) {
      bytes += t.nbytes;
      by_type[std::string(core::dtype_name(t.dtype))] += 1;
    }
    fmt::print("file:          {} (GGUF v{}, {} keys, {} tensors)\n", f.path(), f.version(), f.metadata().size(),
               f.tensors().size());
    fmt::print("architecture:  {}  ({})\n", models::arch_name(info.arch), info.name);
    fmt::print("layers:        {}   d_model: {}   vocab: {}\n", info.n_layers, info.d_model, info.n_vocab);
    fmt::print("parameters:    {} ({:.1f} M), weights {}\n", m.model->n_params(), m.model->n_params() / 1e6,
               human((double)bytes));
    std::string types;
    for (const auto& [t, n] : by_type) types += fmt::format("{}{} x{}", types.empty() ? "" : ", ", t, n);
    fmt::print("tensor types:  {}\n", types);
    if (info.recurrent) {
      fmt::print("state/seq:     {} (constant in context)\n", human((double)m.model->state_bytes(0)));
    } else {
      fmt::print("state/seq:     {} per token (fp32 KV cache); {} at 4096 tokens; context {}\n",
                 human((double)m.model->state_bytes(1)), human((double)m.model->state_bytes(4096)),
                 info.context_length);
    }
    if (f.has("tokenizer.ggml.model")) {
      const auto tok = tokenizer::Tokenizer::from_gguf(f);
      const std::string& pre = tok->model().pre_name;
      fmt::print("tokenizer:     {} ids, pre-tokenizer {}, bos {}, eos {}, chat template {}\n", tok->vocab_size(),
                 pre.empty() ? "default" : pre, token_label(*tok, tok->bos_id()), token_label(*tok, tok->eos_id()),
                 tokenizer::chat_format_name(tok->chat_format()));
    }
    if (metadata)
      for (const auto& [k, v] : f.metadata()) fmt::print("  {} = {}\n", k, v.summary());
    if (tensors)
      for (const auto& t : f.tensors())
        fmt::print("  {:36} {:6} {}\n", t.name, core::dtype_name(t.dtype), t.shape.str());
  });
}

}  // namespace llamba::cli
