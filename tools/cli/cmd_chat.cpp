// `llamba chat`: an interactive conversation using the model's chat template. Each turn feeds only the new part
// of the rendered conversation: the recurrent state (or KV cache) carries everything before it.
// Commands: /reset, /save FILE, /load FILE, /exit.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include <unistd.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/generation_flags.h"
#include "runtime/generate.h"
#include "tokenizer/tokenizer.h"

namespace llamba::cli {

namespace {
struct ChatFlags {
  GenerationFlags gen;
  std::string system;
};
}  // namespace

void register_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "Chat interactively with a model (reads turns from stdin)");
  static ChatFlags f;
  f.gen.add_to(cmd);
  cmd->add_option("--system", f.system, "System prompt (default: the template's own, if any)");
  cmd->callback([] {
    LoadedModel m = load(resolve_model_path(f.gen.model));
    const auto tok = tokenizer::Tokenizer::from_gguf(*m.file);
    LLAMBA_ENSURE(tok->chat_format() != tokenizer::ChatFormat::kNone,
                  "{}: the model has no chat template llamba knows (Llama-3, Llama-3.1+ or ChatML); use `llamba run`",
                  m.file->path());
    ops::Context ctx(f.gen.threads);
    runtime::Session session(*m.model, ctx);
    std::vector<tokenizer::ChatMessage> msgs;
    if (!f.system.empty()) msgs.push_back({"system", f.system});
    std::string fed;  // rendered conversation text already in the state
    const bool tty = isatty(fileno(stdin));
    std::fprintf(stderr, "[llamba] %s: /exit to quit, /reset to start over, /save FILE, /load FILE\n",
                 m.model->info().name.c_str());
    std::string line;
    while (true) {
      if (tty) std::fprintf(stderr, "> ");
      if (!std::getline(std::cin, line)) break;
      if (line.empty()) continue;
      if (line == "/exit" || line == "/quit") break;
      if (line == "/reset") {
        session.reset();
        msgs.resize(f.system.empty() ? 0 : 1);
        fed.clear();
        continue;
      }
      if (line.rfind("/save ", 0) == 0 || line.rfind("/load ", 0) == 0) {
        const std::string path = line.substr(6);
        try {
          // The history travels with the state, so later turns render as a continuation of it.
          if (line[1] == 's') {
            nlohmann::json h = nlohmann::json::array();
            for (const auto& m : msgs) h.push_back({{"role", m.role}, {"content", m.content}});
            session.save_state(path, {{"chat.messages", h.dump()}, {"chat.fed", fed}});
          } else {
            const auto notes = session.load_state(path);
            msgs.clear();
            fed.clear();
            if (notes.count("chat.messages")) {
              for (const auto& m : nlohmann::json::parse(notes.at("chat.messages")))
                msgs.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
              fed = notes.count("chat.fed") ? notes.at("chat.fed") : "";
            }
          }
          std::fprintf(stderr, "[llamba] %s %s (%lld tokens)\n", line[1] == 's' ? "saved" : "loaded", path.c_str(),
                       (long long)session.n_past());
        } catch (const Error& e) {
          std::fprintf(stderr, "[llamba] error: %s\n", e.what());
        }
        continue;
      }
      msgs.push_back({"user", line});
      const std::string rendered = tok->apply_chat_template(msgs, true);
      // Feed what the state has not seen; if the history no longer renders as a continuation, start over.
      std::string add;
      if (rendered.compare(0, fed.size(), fed) == 0) {
        add = rendered.substr(fed.size());
      } else {
        session.reset();
        add = rendered;
      }
      const auto ids = tok->encode(add, false, true);
      std::string reply;
      const auto stats = runtime::generate(session, *tok, ids, f.gen.options(), [&](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        reply += piece;
        return true;
      });
      std::fputc('\n', stdout);
      std::fflush(stdout);
      if (stats.stop_reason == "length" && !stats.tokens.empty()) session.decode(stats.tokens.back());
      msgs.push_back({"assistant", tok->decode(stats.tokens)});
      fed = rendered + msgs.back().content;
      std::fprintf(stderr, "[llamba] %lld prompt + %lld generated tokens, %.1f tok/s; context %lld tokens\n",
                   (long long)stats.n_prompt, (long long)stats.n_generated,
                   stats.decode_s > 0 ? stats.n_generated / stats.decode_s : 0.0, (long long)session.n_past());
    }
  });
}

}  // namespace llamba::cli
