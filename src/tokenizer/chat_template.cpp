// Llama-3, Llama-3.1+ and ChatML rendering, format detection and the defaults a template adds on its own.
#include "tokenizer/chat_template.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "core/check.h"

namespace llamba::tokenizer {

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::kLlama3:
      return "llama3";
    case ChatFormat::kLlama31:
      return "llama3.1";
    case ChatFormat::kChatMl:
      return "chatml";
    default:
      return "none";
  }
}

namespace {

constexpr std::string_view kLlama31Date = "26 Jul 2024";  // the Llama-3.1 template's own default

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

std::string chatml_default_system(std::string_view jinja) {
  // Only templates that test for a missing system message insert one.
  if (jinja.find("!= 'system'") == std::string_view::npos && jinja.find("!= \"system\"") == std::string_view::npos)
    return "";
  const std::string_view head = "<|im_start|>system";
  const size_t at = jinja.find(head);
  if (at == std::string_view::npos) return "";
  size_t b = at + head.size();
  if (jinja.substr(b, 1) == "\n")
    b += 1;
  else if (jinja.substr(b, 2) == "\\n")
    b += 2;  // an escaped newline inside a Jinja string literal
  else
    return "";
  const size_t e = jinja.find("<|im_end|>", b);
  if (e == std::string_view::npos) return "";
  const std::string_view text = jinja.substr(b, e - b);
  // A literal message only: anything templated (a variable, an expression) is not a default we can copy.
  if (text.find("{{") != std::string_view::npos || text.find("{%") != std::string_view::npos ||
      text.find('\'') != std::string_view::npos || text.find('"') != std::string_view::npos)
    return "";
  return std::string(text);
}

// The literal in `set date_string = "..."`, or "" if the template has none.
std::string llama31_literal_date(std::string_view jinja) {
  const std::string_view head = "set date_string = \"";
  const size_t at = jinja.find(head);
  if (at == std::string_view::npos) return "";
  const size_t b = at + head.size(), e = jinja.find('"', b);
  return e == std::string_view::npos ? "" : std::string(jinja.substr(b, e - b));
}

}  // namespace

ChatFormat detect_chat_format(std::string_view jinja) {
  if (contains(jinja, "<|start_header_id|>"))
    return contains(jinja, "Cutting Knowledge Date") ? ChatFormat::kLlama31 : ChatFormat::kLlama3;
  if (contains(jinja, "<|im_start|>")) return ChatFormat::kChatMl;
  return ChatFormat::kNone;
}

std::string today_date_string() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof buf, "%d %b %Y", &local);
  return std::string(buf, n);
}

ChatDefaults chat_defaults(ChatFormat f, std::string_view jinja) {
  ChatDefaults d;
  if (f == ChatFormat::kChatMl) d.system = chatml_default_system(jinja);
  if (f == ChatFormat::kLlama31) {
    // transformers defines strftime_now, so a template that asks for it gets today's date.
    d.date = contains(jinja, "strftime_now") ? today_date_string() : llama31_literal_date(jinja);
    if (d.date.empty()) d.date = kLlama31Date;
  }
  return d;
}

namespace {

// Decodes the code point starting at s[i] (valid UTF-8 assumed; a bad byte counts as itself).
uint32_t decode_at(std::string_view s, size_t i, size_t* len) {
  const auto c = (uint8_t)s[i];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | ((uint8_t)s[i + k] & 0x3F);
  *len = n;
  return cp;
}

bool is_python_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace

std::string_view strip_unicode_space(std::string_view s) {
  size_t b = 0;
  while (b < s.size()) {
    size_t n;
    if (!is_python_space(decode_at(s, b, &n))) break;
    b += n;
  }
  size_t e = b, last_end = b;  // end of the last non-space character
  while (e < s.size()) {
    size_t n;
    const uint32_t c = decode_at(s, e, &n);
    e += n;
    if (!is_python_space(c)) last_end = e;
  }
  return s.substr(b, last_end - b);
}

namespace {

void append_llama3_message(std::string& out, std::string_view role, std::string_view content) {
  out += "<|start_header_id|>";
  out += role;
  out += "<|end_header_id|>\n\n";
  out += content;
  out += "<|eot_id|>";
}

// Jinja's `tojson` as transformers defines it: json.dumps(ensure_ascii=False) of a string.
std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void render_llama31(std::string& out, const std::vector<ChatMessage>& msgs, std::string_view date) {
  const bool has_system = !msgs.empty() && msgs[0].role == "system";
  out += "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: ";
  out += date;
  out += "\n\n";
  if (has_system) out += strip_unicode_space(msgs[0].content);
  out += "<|eot_id|>";
  for (size_t i = has_system ? 1 : 0; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role == "tool" || m.role == "ipython")
      append_llama3_message(out, "ipython", json_string(m.content));  // a string is `iterable` in Jinja
    else
      append_llama3_message(out, m.role, strip_unicode_space(m.content));
  }
}

}  // namespace

std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& msgs, bool add_generation_prompt,
                        std::string_view bos, const ChatDefaults& defaults) {
  std::string out;
  switch (f) {
    case ChatFormat::kLlama3:
    case ChatFormat::kLlama31:
      out += bos;
      if (f == ChatFormat::kLlama31) {
        render_llama31(out, msgs, defaults.date);
      } else {
        for (const auto& m : msgs) append_llama3_message(out, m.role, strip_unicode_space(m.content));
      }
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
    case ChatFormat::kChatMl:
      if (!msgs.empty() && msgs[0].role != "system" && !defaults.system.empty()) {
        out += "<|im_start|>system\n";
        out += defaults.system;
        out += "<|im_end|>\n";
      }
      for (const auto& m : msgs) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      if (add_generation_prompt) out += "<|im_start|>assistant\n";
      return out;
    default:
      LLAMBA_THROW("this tokenizer has no chat template that llamba can render (supported: llama3, llama3.1, chatml)");
  }
}

std::string chat_template_jinja(ChatFormat f) {
  switch (f) {
    case ChatFormat::kLlama3:
      return "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
             "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
             "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
    case ChatFormat::kLlama31:  // the Llama-3.1 template without its tool-calling branches
      return "{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = \"26 Jul 2024\" %}{%- endif %}"
             "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}"
             "{%- set messages = messages[1:] %}{%- else %}{%- set system_message = \"\" %}{%- endif %}"
             "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\nCutting Knowledge Date: December 2023\\n\" }}"
             "{{- \"Today Date: \" + date_string + \"\\n\\n\" + system_message + \"<|eot_id|>\" }}"
             "{%- for message in messages %}{%- if message.role == 'tool' or message.role == 'ipython' %}"
             "{{- '<|start_header_id|>ipython<|end_header_id|>\\n\\n' + message['content'] | tojson + '<|eot_id|>' }}"
             "{%- else %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
             "message['content'] | trim + '<|eot_id|>' }}{%- endif %}{%- endfor %}"
             "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";
    case ChatFormat::kChatMl:
      return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
             "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
             "{% endif %}";
    default:
      return "";
  }
}

}  // namespace llamba::tokenizer
