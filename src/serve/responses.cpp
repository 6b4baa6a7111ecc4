#include "serve/responses.h"

#include <atomic>
#include <chrono>

#include <fmt/format.h>

namespace llamba::serve {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

namespace {
std::string next_id(bool chat) {
  static std::atomic<uint64_t> counter{0};
  const auto t = std::chrono::system_clock::now().time_since_epoch().count();
  return fmt::format("{}-{:x}{:04x}", chat ? "chatcmpl" : "cmpl", (uint64_t)t, counter++ & 0xffff);
}
}  // namespace

Reply::Reply(const tokenizer::Tokenizer& tok, std::string model, bool chat, bool logprobs)
    : tok_(tok), id_(next_id(chat)), model_(std::move(model)),
      created_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()),
      chat_(chat), logprobs_(logprobs) {
  all_logprobs_ = chat ? json{{"content", json::array()}}
                       : json{{"tokens", json::array()}, {"token_logprobs", json::array()},
                              {"top_logprobs", json::array()}, {"text_offset", json::array()}};
}

json Reply::head(const char* object) const {
  return {{"id", id_}, {"object", object}, {"created", created_}, {"model", model_}};
}

json Reply::logprobs_json(const std::vector<TokenLogprob>& lps) {
  auto piece = [&](int32_t id) { return std::string(tok_.token_bytes(id)); };
  auto bytes = [&](int32_t id) {
    json b = json::array();
    for (unsigned char c : tok_.token_bytes(id)) b.push_back((int)c);
    return b;
  };
  if (chat_) {
    json content = json::array();
    for (const TokenLogprob& t : lps) {
      json top = json::array();
      for (auto [id, lp] : t.top) top.push_back({{"token", piece(id)}, {"logprob", lp}, {"bytes", bytes(id)}});
      content.push_back({{"token", piece(t.id)}, {"logprob", t.logprob}, {"bytes", bytes(t.id)}, {"top_logprobs", top}});
    }
    return {{"content", content}};
  }
  json r = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
            {"text_offset", json::array()}};
  for (const TokenLogprob& t : lps) {
    r["tokens"].push_back(piece(t.id));
    r["token_logprobs"].push_back(t.logprob);
    json top = json::object();
    for (auto [id, lp] : t.top) top[piece(id)] = lp;
    r["top_logprobs"].push_back(top);
    r["text_offset"].push_back(text_offset_);
    text_offset_ += (int64_t)tok_.token_bytes(t.id).size();
  }
  return r;
}

json Reply::chunk(const Event& e) {
  json c = head(chat_ ? "chat.completion.chunk" : "text_completion");
  json choice = {{"index", 0}, {"finish_reason", e.final ? json(e.finish_reason) : json(nullptr)}};
  choice["logprobs"] = logprobs_ && !e.logprobs.empty() ? logprobs_json(e.logprobs) : json(nullptr);
  if (chat_) {
    json delta = json::object();
    if (first_chunk_) delta["role"] = "assistant";
    if (!e.text.empty() || !e.final) delta["content"] = e.text;
    choice["delta"] = delta;
  } else {
    choice["text"] = e.text;
  }
  first_chunk_ = false;
  c["choices"] = json::array({choice});
  return c;
}

json Reply::usage_chunk(const Usage& u) const {
  json c = head(chat_ ? "chat.completion.chunk" : "text_completion");
  c["choices"] = json::array();
  c["usage"] = usage_json(u);
  return c;
}

void Reply::add(const Event& e) {
  text_ += e.text;
  if (!logprobs_ || e.logprobs.empty()) return;
  const json lp = logprobs_json(e.logprobs);
  for (auto& [k, v] : lp.items())
    for (const auto& x : v) all_logprobs_[k].push_back(x);
}

json Reply::body(const Event& final) const {
  json b = head(chat_ ? "chat.completion" : "text_completion");
  json choice = {{"index", 0}, {"finish_reason", final.finish_reason},
                 {"logprobs", logprobs_ ? all_logprobs_ : json(nullptr)}};
  if (chat_) choice["message"] = {{"role", "assistant"}, {"content", text_}};
  else choice["text"] = text_;
  b["choices"] = json::array({choice});
  b["usage"] = usage_json(final.usage);
  return b;
}

}  // namespace llamba::serve
