#include "serve/server.h"

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "core/check.h"
#include "serve/request.h"
#include "serve/responses.h"
#include "serve/metrics.h"
#include "serve/web.h"

namespace llamba::serve {

using nlohmann::json;

struct Server::Impl {
  const models::Model& model;
  const tokenizer::Tokenizer& tok;
  Scheduler& sched;
  ServerOptions opt;
  httplib::Server http;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> http_errors{0};

  void routes();
  void reply_error(httplib::Response& res, const ApiError& e) {
    ++http_errors;
    res.status = e.status;
    res.set_content(dump(e.body()), "application/json");
  }
  // Runs a handler body, turning every failure into an OpenAI-style error response.
  template <class F>
  void guarded(httplib::Response& res, F&& f) {
    try {
      f();
    } catch (const ApiError& e) {
      reply_error(res, e);
    } catch (const core::Error& e) {
      reply_error(res, ApiError(400, e.what()));
    } catch (const std::exception& e) {
      reply_error(res, ApiError(500, e.what(), "", "server_error"));
    }
  }
  void completion(const httplib::Request& req, httplib::Response& res, bool chat);
  std::vector<int32_t> prompt_tokens(const CompletionRequest& r) const;
  std::string state_path(const json& body) const;
};


std::vector<int32_t> Server::Impl::prompt_tokens(const CompletionRequest& r) const {
  if (r.chat) {
    if (tok.chat_format() == tokenizer::ChatFormat::kNone)
      throw ApiError(400, "the model has no chat template: use /v1/completions", "messages");
    return tok.encode(tok.apply_chat_template(r.messages, true), false, true);
  }
  return tok.encode(r.prompt, tok.add_bos_default(), false);  // as `llamba run`
}

std::string Server::Impl::state_path(const json& body) const {
  if (opt.state_dir.empty()) throw ApiError(404, "state files are off: start the server with --state-dir DIR");
  const auto it = body.find("name");
  if (it == body.end() || !it->is_string()) throw ApiError(400, "'name' (a file name) is required", "name");
  const std::string name = it->get<std::string>();
  const bool plain = !name.empty() && name.size() <= 128 && name.find_first_not_of(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos && name[0] != '.';
  if (!plain) throw ApiError(400, "'name' must be a plain file name ([A-Za-z0-9._-], not starting with '.')", "name");
  return (std::filesystem::path(opt.state_dir) / (name + ".gguf")).string();
}

namespace {
GenParams gen_params(const CompletionRequest& r) {
  return {r.max_tokens, r.sampling, r.stop, r.ignore_eos, r.top_logprobs};
}

std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }
}  // namespace

void Server::Impl::completion(const httplib::Request& req, httplib::Response& res, bool chat) {
  guarded(res, [&] {
    if (draining) throw ApiError(503, "the server is shutting down", "", "server_error");
    CompletionRequest r = parse_completion_request(req.body, chat);
    if (!r.model.empty() && r.model != opt.model_id)
      throw ApiError(404, fmt::format("model '{}' not found; this server has '{}'", r.model, opt.model_id), "model",
                     "not_found_error");
    std::shared_ptr<Job> job;
    try {
      job = sched.submit(prompt_tokens(r), gen_params(r));
    } catch (const OverMemoryBudget& e) {  // its KV cache could never fit the server's memory budget
      throw ApiError(400, e.what(), "max_tokens");
    } catch (const core::Error& e) {  // an empty prompt or one longer than the context
      throw ApiError(400, e.what(), chat ? "messages" : "prompt");
    }
    auto reply = std::make_shared<Reply>(tok, opt.model_id, chat, r.top_logprobs >= 0);
    if (!r.stream) {
      Event e;
      while (job->next(e) && !e.final) reply->add(e);
      if (!e.error.empty()) throw ApiError(500, e.error, "", "server_error");
      if (e.finish_reason == "cancelled") throw ApiError(503, "cancelled: the server is shutting down", "", "server_error");
      reply->add(e);
      res.set_content(dump(reply->body(e)), "application/json");
      return;
    }
    ++in_flight;
    const bool usage = r.include_usage;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, reply, usage](size_t, httplib::DataSink& sink) {
          auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
          for (Event e; job->next(e);) {
            if (!e.final && e.text.empty() && e.logprobs.empty()) continue;
            std::string out;
            if (e.final && (!e.error.empty() || e.finish_reason == "cancelled")) {
              const std::string msg = e.error.empty() ? "cancelled: the server is shutting down" : e.error;
              out = sse(ApiError(500, msg, "", "server_error").body());
            } else {
              out = sse(reply->chunk(e));
              if (e.final && usage) out += sse(reply->usage_chunk(e.usage));
            }
            if (e.final) out += "data: [DONE]\n\n";
            if (!write(out)) {
              job->cancel();  // the client is gone: free its slot
              return false;
            }
          }
          sink.done();
          return true;
        },
        [this, job](bool) {
          job->cancel();  // no-op when it ended; frees the slot when the connection broke first
          --in_flight;
        });
  });
}

void Server::Impl::routes() {
  http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(chat_page_html(), "text/html; charset=utf-8"); });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    res.status = draining ? 503 : 200;
    res.set_content(dump({{"status", draining ? "shutting down" : "ok"}}), "application/json");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const auto& info = model.info();
    json m = {{"id", opt.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "llamba"},
              {"meta", {{"architecture", std::string(models::arch_name(info.arch))}, {"n_params", model.n_params()},
                        {"n_vocab", info.n_vocab}, {"n_ctx", sched.context()}, {"recurrent", info.recurrent}}}};
    res.set_content(dump({{"object", "list"}, {"data", json::array({m})}}), "application/json");
  });
  http.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& r) { completion(q, r, false); });
  http.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& r) { completion(q, r, true); });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(sched.stats(), http_errors), "text/plain; version=0.0.4");
  });
  http.Post("/tokenize", [this](const httplib::Request& q, httplib::Response& res) {
    guarded(res, [&] {
      const json b = parse_json_object(q.body);
      if (!b.contains("content") || !b["content"].is_string()) throw ApiError(400, "'content' (a string) is required", "content");
      const bool special = b.value("add_special", false);
      const std::vector<int32_t> ids = tok.encode(b["content"].get<std::string>(), special && tok.bos_id() >= 0, special);
      res.set_content(dump({{"tokens", ids}}), "application/json");
    });
  });
  http.Post("/detokenize", [this](const httplib::Request& q, httplib::Response& res) {
    guarded(res, [&] {
      const json b = parse_json_object(q.body);
      if (!b.contains("tokens") || !b["tokens"].is_array()) throw ApiError(400, "'tokens' (a list of ids) is required", "tokens");
      std::vector<int32_t> ids;
      for (const auto& t : b["tokens"]) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tok.vocab_size())
          throw ApiError(400, fmt::format("'tokens' must hold ids in [0, {})", tok.vocab_size()), "tokens");
        ids.push_back(t.get<int32_t>());
      }
      res.set_content(dump({{"content", tok.decode(ids)}}), "application/json");
    });
  });
  http.Post("/v1/state/save", [this](const httplib::Request& q, httplib::Response& res) {
    guarded(res, [&] {
      const json b = parse_json_object(q.body);
      const std::string path = state_path(b);
      CompletionRequest r = parse_completion_request(b, b.contains("messages"));
      std::vector<int32_t> ids = prompt_tokens(r);
      const int64_t n = (int64_t)ids.size();
      sched.save_state(std::move(ids), path);
      res.set_content(dump({{"name", b["name"]}, {"n_tokens", n}}), "application/json");
    });
  });
  http.Post("/v1/state/load", [this](const httplib::Request& q, httplib::Response& res) {
    guarded(res, [&] {
      const json b = parse_json_object(q.body);
      const std::string path = state_path(b);
      if (!std::filesystem::exists(path)) throw ApiError(404, fmt::format("no saved state named '{}'", b["name"].get<std::string>()), "name");
      res.set_content(dump({{"name", b["name"]}, {"n_tokens", sched.load_state(path)}}), "application/json");
    });
  });
}

Server::Server(const models::Model& model, const tokenizer::Tokenizer& tok, Scheduler& scheduler, ServerOptions o)
    : impl_(new Impl{model, tok, scheduler, std::move(o), {}, {}, {}, {}}) {
  Impl& s = *impl_;
  const int threads = s.opt.http_threads;
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.http.set_payload_max_length(s.opt.max_body_bytes);
  s.http.set_read_timeout(60);
  s.http.set_write_timeout(60);
  s.http.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    if (s.opt.api_key.empty() || req.path == "/" || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + s.opt.api_key) return httplib::Server::HandlerResponse::Unhandled;
    s.reply_error(res, ApiError(401, "invalid or missing API key (send 'Authorization: Bearer KEY')", "", "authentication_error"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses httplib sets itself (404 no route, 413 body too large, 400 bad request line) get an OpenAI body.
  s.http.set_error_handler([&s](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = fmt::format("HTTP {}", res.status);
    if (res.status == 404) msg = fmt::format("no route {} {}", req.method, req.path);
    if (res.status == 413) msg = fmt::format("the request body exceeds {} bytes", s.opt.max_body_bytes);
    ++s.http_errors;
    res.set_content(dump(ApiError(res.status, msg).body()), "application/json");
  });
  s.routes();
}

Server::~Server() = default;

int Server::bind() {
  Impl& s = *impl_;
  int port = s.opt.port;
  if (port == 0) {
    port = s.http.bind_to_any_port(s.opt.host);
  } else if (!s.http.bind_to_port(s.opt.host, port)) {
    port = -1;
  }
  LLAMBA_ENSURE(port > 0, "cannot listen on {}:{} (in use, or not an address of this machine)", s.opt.host, s.opt.port);
  return port;
}

bool Server::listen() { return impl_->http.listen_after_bind(); }

void Server::stop() {
  Impl& s = *impl_;
  if (s.draining.exchange(true)) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(s.opt.drain_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const SchedulerStats st = s.sched.stats();
    if (st.active == 0 && st.queued == 0 && s.in_flight == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  s.sched.shutdown(true);  // what is left ends as cancelled; its streams get an error event
  for (int i = 0; i < 250 && s.in_flight > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  s.http.stop();
}

}  // namespace llamba::serve
