// The HTTP front of `llamba serve`: OpenAI-compatible completions and chat completions (JSON or Server-Sent
// Events), models, health, Prometheus metrics, tokenize / detokenize, state save / load and a chat page, over
// cpp-httplib. Handlers only translate: every token comes from the Scheduler. Errors are OpenAI-style JSON.
// Thread safety: one Server per port; handlers run on httplib's worker threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "serve/scheduler.h"

namespace llamba::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;             // 0: any free port (see bind())
  std::string model_id;        // the name /v1/models lists and requests may give
  std::string api_key;         // non-empty: every route but / and /health needs "Authorization: Bearer KEY"
  std::string state_dir;       // where /v1/state/save and /load read and write; empty: those routes are off
  size_t max_body_bytes = 8 << 20;
  int http_threads = 128;      // concurrent connections served (each stream holds one)
  double drain_seconds = 10;   // on stop(): how long in-flight requests may still run before they are cancelled
};

class Server {
 public:
  Server(const models::Model& model, const tokenizer::Tokenizer& tok, Scheduler& scheduler, ServerOptions o);
  ~Server();
  // Binds the socket; returns the port (the chosen one when the options say 0). Throws llamba::Error.
  int bind();
  // Serves until stop(); returns false if the socket failed.
  bool listen();
  // Stops admitting requests (503), lets in-flight ones finish for up to drain_seconds, cancels the rest, then
  // closes the socket. Safe from any thread, also from a signal-watching one.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llamba::serve
