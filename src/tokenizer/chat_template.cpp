// Llama-3 and ChatML rendering, format detection and the default-system-message extraction.
#include "tokenizer/chat_template.h"

#include "core/check.h"

namespace llamba::tokenizer {

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::kLlama3:
      return "llama3";
    case ChatFormat::kChatMl:
      return "chatml";
    default:
      return "none";
  }
}

ChatFormat detect_chat_format(std::string_view jinja) {
  if (jinja.find("<|start_header_id|>") != std::string_view::npos) return ChatFormat::kLlama3;
  if (jinja.find("<|im_start|>") != std::string_view::npos) return ChatFormat::kChatMl;
  return ChatFormat::kNone;
}

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

std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& msgs, bool add_generation_prompt,
                        std::string_view bos, std::string_view default_system) {
  std::string out;
  switch (f) {
    case ChatFormat::kLlama3:
      out += bos;
      for (const auto& m : msgs) {
        out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
        out += strip_unicode_space(m.content);
        out += "<|eot_id|>";
      }
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
    case ChatFormat::kChatMl:
      if (!msgs.empty() && msgs[0].role != "system" && !default_system.empty()) {
        out += "<|im_start|>system\n";
        out += default_system;
        out += "<|im_end|>\n";
      }
      for (const auto& m : msgs) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      if (add_generation_prompt) out += "<|im_start|>assistant\n";
      return out;
    default:
      LLAMBA_THROW("this tokenizer has no chat template that llamba can render (supported: llama3, chatml)");
  }
}

std::string chat_template_jinja(ChatFormat f) {
  switch (f) {
    case ChatFormat::kLlama3:
      return "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
             "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
             "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
    case ChatFormat::kChatMl:
      return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
             "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
             "{% endif %}";
    default:
      return "";
  }
}

}  // namespace llamba::tokenizer
