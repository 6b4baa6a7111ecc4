// Native chat templates for the two formats our models use: Llama-3 instruct headers and ChatML (SmolLM2).
// The format is chosen from the model's Jinja template text (or, without one, from its special tokens);
// no template engine is involved. Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llamba::tokenizer {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant" | …
  std::string content;
};

enum class ChatFormat { kNone, kLlama3, kChatMl };
const char* chat_format_name(ChatFormat f);

// Picks the format from a Jinja template; kNone if it is neither of ours.
ChatFormat detect_chat_format(std::string_view jinja);
// ChatML templates may insert a system message when the conversation has none (SmolLM2: "You are a helpful
// AI assistant named SmolLM, trained by Hugging Face"); returns that text, or "" if the template has none.
std::string chatml_default_system(std::string_view jinja);

// Renders a conversation. Llama-3: `bos` + per message "<|start_header_id|>ROLE<|end_header_id|>\n\n" +
// trimmed content + "<|eot_id|>" (meta-llama Meta-Llama-3-8B-Instruct tokenizer_config.json). ChatML:
// "<|im_start|>ROLE\n" + content + "<|im_end|>\n", the default system message first when there is no system
// message. Throws llamba::Error for kNone.
std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& msgs, bool add_generation_prompt,
                        std::string_view bos, std::string_view default_system);

// A Jinja source equivalent to render_chat for the format, written into GGUF files that had no template.
std::string chat_template_jinja(ChatFormat f);

// Python's str.strip(): removes leading and trailing Unicode whitespace (Jinja's `trim`).
std::string_view strip_unicode_space(std::string_view s);

}  // namespace llamba::tokenizer
