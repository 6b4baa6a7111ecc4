// Native chat templates for the formats our models use: Llama-3 instruct headers (3.0, and 3.1/3.2/3.3 with their
// system block), and ChatML (SmolLM2). The format is chosen from the model's Jinja template text (or, without
// one, from its special tokens); no template engine is involved. Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llamba::tokenizer {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant" | …
  std::string content;
};

// kLlama31: the Llama-3.1 / 3.2 / 3.3 instruct template, which always opens with a system block holding the
// knowledge cut-off and a date.
enum class ChatFormat { kNone, kLlama3, kLlama31, kChatMl };
const char* chat_format_name(ChatFormat f);

// What a template adds on its own, read from its Jinja text.
struct ChatDefaults {
  // ChatML templates may insert a system message when the conversation has none (SmolLM2: "You are a helpful
  // AI assistant named SmolLM, trained by Hugging Face"); "" if the template has none.
  std::string system;
  // Llama-3.1+: the "Today Date: " text, rendered as given. Llama-3.1/3.3 fix it ("26 Jul 2024"); Llama-3.2 asks
  // for today's date (strftime_now("%d %b %Y"), as transformers renders it), taken once when the defaults are read.
  std::string date;
};

// Picks the format from a Jinja template; kNone if it is none of ours.
ChatFormat detect_chat_format(std::string_view jinja);
ChatDefaults chat_defaults(ChatFormat f, std::string_view jinja);
// Today's local date as strftime("%d %b %Y"), e.g. "05 Mar 2025".
std::string today_date_string();

// Renders a conversation. Llama-3: `bos` + per message "<|start_header_id|>ROLE<|end_header_id|>\n\n" +
// trimmed content + "<|eot_id|>" (meta-llama Meta-Llama-3-8B-Instruct tokenizer_config.json). Llama-3.1+: `bos`,
// then a system block ("Cutting Knowledge Date: December 2023\nToday Date: DATE\n\n" + the trimmed first
// message if it is a system message), then the other messages as in Llama-3, except that "tool"/"ipython"
// messages become an "ipython" header with the content as a JSON string (the template's `tojson`). ChatML:
// "<|im_start|>ROLE\n" + content + "<|im_end|>\n", the default system message first when there is no system
// message. Throws llamba::Error for kNone.
std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& msgs, bool add_generation_prompt,
                        std::string_view bos, const ChatDefaults& defaults);

// A Jinja source equivalent to render_chat for the format, written into GGUF files that had no template.
std::string chat_template_jinja(ChatFormat f);

// Python's str.strip(): removes leading and trailing Unicode whitespace (Jinja's `trim`).
std::string_view strip_unicode_space(std::string_view s);

}  // namespace llamba::tokenizer
