#include "serve/request.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "io/json_depth.h"

namespace llamba::serve {

using nlohmann::json;

json ApiError::body() const {
  json e = {{"message", what()}, {"type", type}, {"param", param.empty() ? json(nullptr) : json(param)},
            {"code", nullptr}};
  return {{"error", e}};
}

json parse_json_object(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    throw ApiError(400, fmt::format("malformed JSON at byte {}", e.byte));
  } catch (const json::out_of_range&) {  // a number beyond a double, such as 1e309
    throw ApiError(400, "malformed JSON: a number is out of range");
  }
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  if (io::json_depth(j) > io::kMaxJsonDepth)
    throw ApiError(400, fmt::format("the request body is nested deeper than {} levels", io::kMaxJsonDepth));
  return j;
}

namespace {
const char* type_name(const json& v) { return v.type_name(); }

// The field `key` of `j` if present and not null.
const json* field(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

double number(const json& j, const char* key, double lo, double hi, double dflt) {
  const json* v = field(j, key);
  if (!v) return dflt;
  if (!v->is_number()) throw ApiError(400, fmt::format("'{}' must be a number, got {}", key, type_name(*v)), key);
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) throw ApiError(400, fmt::format("'{}' must be in [{}, {}], got {}", key, lo, hi, x), key);
  return x;
}

int64_t integer(const json& j, const char* key, int64_t lo, int64_t hi, int64_t dflt) {
  const json* v = field(j, key);
  if (!v) return dflt;
  if (!v->is_number_integer() && !v->is_number_unsigned())
    throw ApiError(400, fmt::format("'{}' must be an integer, got {}", key, type_name(*v)), key);
  if (v->is_number_unsigned() && v->get<uint64_t>() > (uint64_t)hi)
    throw ApiError(400, fmt::format("'{}' must be in [{}, {}]", key, lo, hi), key);
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) throw ApiError(400, fmt::format("'{}' must be in [{}, {}], got {}", key, lo, hi, x), key);
  return x;
}

bool boolean(const json& j, const char* key, bool dflt) {
  const json* v = field(j, key);
  if (!v) return dflt;
  if (!v->is_boolean()) throw ApiError(400, fmt::format("'{}' must be a boolean, got {}", key, type_name(*v)), key);
  return v->get<bool>();
}

std::string string(const json& j, const char* key, const std::string& param) {
  const json* v = field(j, key);
  if (!v) return {};
  if (!v->is_string()) throw ApiError(400, fmt::format("'{}' must be a string, got {}", param, type_name(*v)), param);
  return v->get<std::string>();
}

std::vector<std::string> stop_list(const json& j) {
  const json* v = field(j, "stop");
  if (!v) return {};
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const auto& s : *v) {
      if (!s.is_string()) throw ApiError(400, "'stop' must be a string or a list of strings", "stop");
      out.push_back(s.get<std::string>());
    }
  } else {
    throw ApiError(400, fmt::format("'stop' must be a string or a list of strings, got {}", type_name(*v)), "stop");
  }
  if (out.size() > 16) throw ApiError(400, "'stop' may hold at most 16 strings", "stop");
  return out;
}

// OpenAI message content: a string, or a list of {"type": "text", "text": ...} parts (joined).
std::string message_content(const json& m, size_t i) {
  const std::string param = fmt::format("messages[{}].content", i);
  const json* c = field(m, "content");
  if (!c) return {};
  if (c->is_string()) return c->get<std::string>();
  if (!c->is_array()) throw ApiError(400, fmt::format("'{}' must be a string or a list of parts", param), param);
  std::string out;
  for (const auto& part : *c) {
    if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") ||
        !part["text"].is_string())
      throw ApiError(400, fmt::format("'{}': only text parts ({{\"type\": \"text\", \"text\": ...}}) are supported", param),
                     param);
    out += part["text"].get<std::string>();
  }
  return out;
}

std::vector<tokenizer::ChatMessage> messages(const json& j) {
  const json* v = field(j, "messages");
  if (!v) throw ApiError(400, "'messages' is required", "messages");
  if (!v->is_array() || v->empty()) throw ApiError(400, "'messages' must be a non-empty list", "messages");
  std::vector<tokenizer::ChatMessage> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& m = (*v)[i];
    if (!m.is_object()) throw ApiError(400, fmt::format("'messages[{}]' must be an object", i), fmt::format("messages[{}]", i));
    const std::string role_param = fmt::format("messages[{}].role", i);
    const std::string role = string(m, "role", role_param);
    if (role.empty()) throw ApiError(400, fmt::format("'{}' is required", role_param), role_param);
    out.push_back({role, message_content(m, i)});
  }
  return out;
}
}  // namespace

CompletionRequest parse_completion_request(const std::string& body, bool chat) {
  return parse_completion_request(parse_json_object(body), chat);
}

CompletionRequest parse_completion_request(const json& j, bool chat) {
  CompletionRequest r;
  r.chat = chat;
  r.model = string(j, "model", "model");
  if (chat) {
    r.messages = messages(j);
  } else {
    const json* p = field(j, "prompt");
    if (!p) throw ApiError(400, "'prompt' is required", "prompt");
    if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
      r.prompt = (*p)[0].get<std::string>();
    } else if (p->is_string()) {
      r.prompt = p->get<std::string>();
    } else {
      throw ApiError(400, "'prompt' must be a string (or a list holding one string)", "prompt");
    }
  }
  constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
  const char* budget = field(j, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  r.max_tokens = integer(j, budget, 0, kMaxInt, chat ? -1 : 16);  // OpenAI completions default to 16 tokens
  if (integer(j, "n", 1, 1, 1) != 1) throw ApiError(400, "only 'n' = 1 is supported", "n");
  auto& s = r.sampling;
  s.temperature = (float)number(j, "temperature", 0, 2, 1);
  s.top_p = (float)number(j, "top_p", std::numeric_limits<double>::min(), 1, 1);
  s.top_k = (int32_t)integer(j, "top_k", 0, kMaxInt, 0);
  s.min_p = (float)number(j, "min_p", 0, 1, 0);
  s.presence_penalty = (float)number(j, "presence_penalty", -2, 2, 0);
  s.frequency_penalty = (float)number(j, "frequency_penalty", -2, 2, 0);
  s.repeat_penalty = (float)number(j, "repeat_penalty", std::numeric_limits<double>::min(), 10, 1);
  s.repeat_last_n = (int32_t)integer(j, "repeat_last_n", -1, kMaxInt, 64);
  const int64_t seed = integer(j, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), -1);
  s.seed = (uint64_t)seed;  // -1: the server picks one
  r.stop = stop_list(j);
  r.stream = boolean(j, "stream", false);
  r.ignore_eos = boolean(j, "ignore_eos", false);
  if (const json* so = field(j, "stream_options")) {
    if (!so->is_object()) throw ApiError(400, "'stream_options' must be an object", "stream_options");
    r.include_usage = boolean(*so, "include_usage", false);
  }
  if (chat) {  // chat: "logprobs": bool, "top_logprobs": 0..20
    if (boolean(j, "logprobs", false)) r.top_logprobs = (int)integer(j, "top_logprobs", 0, 20, 0);
    else if (field(j, "top_logprobs")) throw ApiError(400, "'top_logprobs' needs 'logprobs': true", "top_logprobs");
  } else {  // completions: "logprobs": 0..5 alternatives
    r.top_logprobs = (int)integer(j, "logprobs", 0, 5, -1);
  }
  return r;
}

}  // namespace llamba::serve
