// Chat templates (tokenizer/chat_template.cpp): format detection and the defaults read from a Jinja source,
// then rendering of a conversation in every format. Input: the template text, then NUL-separated role and
// content fields (role, content, role, content, ...). Checks: rendering never fails for a known format, every
// message's (trimmed) content appears in the prompt, and strip_unicode_space returns a substring.
#include <vector>

#include "fuzz_util.h"
#include "tokenizer/chat_template.h"

using namespace llamba;
using tokenizer::ChatFormat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split_nul(std::string_view(reinterpret_cast<const char*>(data), size), 64);
  const std::string_view jinja = parts[0];
  std::vector<tokenizer::ChatMessage> msgs;
  for (size_t i = 1; i + 1 < parts.size(); i += 2) msgs.push_back({std::string(parts[i]), std::string(parts[i + 1])});
  const bool gen = size % 2 == 0;

  const ChatFormat detected = tokenizer::detect_chat_format(jinja);
  const tokenizer::ChatDefaults defaults = tokenizer::chat_defaults(detected, jinja);
  if (detected == ChatFormat::kNone) {
    fuzz::expect_clean([&] { (void)tokenizer::render_chat(detected, msgs, gen, "<s>", defaults); });
  }
  for (const ChatFormat f : {ChatFormat::kLlama3, ChatFormat::kLlama31, ChatFormat::kChatMl}) {
    const tokenizer::ChatDefaults d = tokenizer::chat_defaults(f, jinja);
    const std::string out = tokenizer::render_chat(f, msgs, gen, "<|begin_of_text|>", d);
    for (const auto& m : msgs) {
      if (f == ChatFormat::kLlama31 && (m.role == "tool" || m.role == "ipython")) continue;  // JSON-escaped
      const std::string_view want =
          f == ChatFormat::kChatMl ? std::string_view(m.content) : tokenizer::strip_unicode_space(m.content);
      FUZZ_ASSERT(out.find(want) != std::string::npos, "{}: a message's content is missing from the prompt",
                  tokenizer::chat_format_name(f));
    }
    FUZZ_ASSERT(tokenizer::detect_chat_format(tokenizer::chat_template_jinja(f)) == f,
                "{}: the format's own Jinja text is detected as another format", tokenizer::chat_format_name(f));
  }
  for (const auto& m : msgs) {
    const std::string_view s = tokenizer::strip_unicode_space(m.content);
    FUZZ_ASSERT(s.empty() || (s.data() >= m.content.data() && s.data() + s.size() <= m.content.data() + m.content.size()),
                "strip_unicode_space returned bytes outside its input");
    FUZZ_ASSERT(tokenizer::strip_unicode_space(s) == s, "strip_unicode_space is not idempotent");
  }
  return 0;
}
