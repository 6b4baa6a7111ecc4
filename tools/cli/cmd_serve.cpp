// `llamba serve`: the OpenAI-compatible HTTP server (src/serve). SIGINT / SIGTERM drain it and exit 0.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/memory_flag.h"
#include "cli/range_check.h"
#include "serve/memory_need.h"
#include "serve/server.h"
#include "tokenizer/tokenizer.h"

namespace llamba::cli {

namespace {
int g_signal_pipe[2] = {-1, -1};
void on_signal(int sig) {
  const unsigned char c = (unsigned char)sig;
  [[maybe_unused]] auto n = write(g_signal_pipe[1], &c, 1);  // async-signal-safe
}

struct ServeFlags {
  std::string model, host = "127.0.0.1", api_key, alias, state_dir, max_memory;
  int port = 8080, threads = 0, parallel = 4;
  int64_t cache_mb = 256, ctx_size = 0, prefill_chunk = 128, snapshot_interval = 256, max_body_mb = 8;
  double drain_s = 10;
};
}  // namespace

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server with continuous batching and a state cache");
  static ServeFlags f;
  cmd->add_option("-m,--model", f.model, "GGUF model file (default: the installed default model)");
  cmd->add_option("--host", f.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", f.port, "Port (0: any free one, printed)")->check(in_range(0, 65535))->capture_default_str();
  cmd->add_option("-t,--threads", f.threads, "CPU threads (default: all)")->check(in_range(0, 1024));
  cmd->add_option("--parallel", f.parallel, "Sequences decoded together")->check(in_range(1, 4096))->capture_default_str();
  cmd->add_option("--state-cache-mb", f.cache_mb, "State cache budget in MiB (0: off)")
      ->check(in_range(int64_t(0), int64_t(1) << 24))->capture_default_str();
  cmd->add_option("-c,--ctx-size", f.ctx_size, "Tokens per sequence, prompt and completion (0: the model's; "
                  "recurrent models: unbounded)")->check(in_range(int64_t(0), int64_t(1) << 40));
  cmd->add_option("--prefill-chunk", f.prefill_chunk, "Prompt tokens prefilled per scheduler step")
      ->check(in_range(int64_t(1), int64_t(1) << 20))->capture_default_str();
  cmd->add_option("--snapshot-interval", f.snapshot_interval, "Recurrent models: cache the state every N prompt tokens")
      ->check(in_range(int64_t(1), int64_t(1) << 30))->capture_default_str();
  cmd->add_option("--api-key", f.api_key, "Require 'Authorization: Bearer KEY' (default: $LLAMBA_API_KEY, else none)");
  cmd->add_option("--alias", f.alias, "Model id in the API (default: the file name without .gguf)");
  cmd->add_option("--state-dir", f.state_dir, "Directory for /v1/state/save and /v1/state/load (default: off)");
  cmd->add_option("--max-body-mb", f.max_body_mb, "Largest request body")->check(in_range(int64_t(1), int64_t(1024)))
      ->capture_default_str();
  cmd->add_option("--drain-seconds", f.drain_s, "On SIGINT/SIGTERM: how long in-flight requests may finish")
      ->check(in_range(0.0, 3600.0))->capture_default_str();
  add_max_memory(cmd, f.max_memory);
  cmd->callback([] {
    const runtime::MemoryLimit limit = runtime::memory_limit(f.max_memory);  // a bad size fails first
    // SIGINT / SIGTERM write their number to a pipe that a watcher thread reads (a handler, not a blocked mask:
    // threads started before this callback, such as OpenBLAS's, would otherwise take the signal and die).
    LLAMBA_ENSURE(pipe(g_signal_pipe) == 0, "cannot create the signal pipe");
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    const std::string path = resolve_model_path(f.model);
    LoadedModel m = load(path);
    const auto tok = tokenizer::Tokenizer::from_gguf(*m.file);
    if (!f.state_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(f.state_dir, ec);
      LLAMBA_ENSURE(std::filesystem::is_directory(f.state_dir), "--state-dir {}: not a directory ({})", f.state_dir,
                    ec.message());
    }
    serve::SchedulerOptions so;
    so.parallel = f.parallel;
    so.prefill_per_step = f.prefill_chunk;
    so.snapshot_interval = f.snapshot_interval;
    so.cache_bytes = f.cache_mb << 20;
    so.context = f.ctx_size;
    const runtime::MemoryNeed need = serve::server_memory_need(*m.model, so);
    runtime::require_fits(need, limit, "llamba serve",
                          "lower --parallel, -c/--ctx-size or --state-cache-mb, or raise --max-memory");
    so.state_budget = serve::request_state_budget(*m.model, need, limit);
    so.budget_source = limit.source;
    ops::Context ctx(f.threads);
    serve::Scheduler sched(*m.model, *tok, ctx, so);
    serve::ServerOptions o;
    o.host = f.host;
    o.port = f.port;
    o.model_id = !f.alias.empty() ? f.alias : std::filesystem::path(path).stem().string();
    const char* env_key = std::getenv("LLAMBA_API_KEY");
    o.api_key = !f.api_key.empty() ? f.api_key : (env_key ? env_key : "");
    o.state_dir = f.state_dir;
    o.max_body_bytes = (size_t)f.max_body_mb << 20;
    o.drain_seconds = f.drain_s;
    o.http_threads = std::max(64, 2 * f.parallel + 16);
    serve::Server server(*m.model, *tok, sched, o);
    const int port = server.bind();
    std::fprintf(stderr, "[llamba] serving %s (%s) on http://%s:%d  (parallel %d, state cache %lld MiB%s)\n",
                 o.model_id.c_str(), std::string(models::arch_name(m.model->info().arch)).c_str(), f.host.c_str(),
                 port, f.parallel, (long long)f.cache_mb, o.api_key.empty() ? "" : ", API key required");
    if (so.state_budget > 0)
      std::fprintf(stderr, "[llamba] the requests' KV caches may take %s together (%s, less %s)\n",
                   runtime::format_bytes(so.state_budget).c_str(), limit.source.c_str(),
                   runtime::format_bytes(limit.bytes - so.state_budget).c_str());
    std::thread watcher([&] {
      unsigned char sig = 0;
      while (read(g_signal_pipe[0], &sig, 1) < 0 && errno == EINTR) {
      }
      if (sig == 0) return;  // the server ended on its own
      std::fprintf(stderr, "[llamba] %s: finishing in-flight requests, then exiting\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      server.stop();
    });
    const bool ok = server.listen();
    if (!ok) {
      const unsigned char none = 0;
      [[maybe_unused]] auto n = write(g_signal_pipe[1], &none, 1);
    }
    watcher.join();
    LLAMBA_ENSURE(ok, "the server's socket failed on {}:{}", f.host, port);
    std::fprintf(stderr, "[llamba] server stopped\n");
  });
}

}  // namespace llamba::cli
