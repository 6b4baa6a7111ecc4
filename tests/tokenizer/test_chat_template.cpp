// Native chat templates against transformers' Jinja rendering (Llama-3, Llama-3.1 and 3.2 instruct, SmolLM2
// ChatML), format detection and the helpers behind them.
#include <cctype>
#include <functional>

#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

using namespace llamba::tokenizer;

const nlohmann::json& chat_fixture() {
  static const nlohmann::json j = nlohmann::json::parse(read_binary(fixture_path("tokenizer/chat_templates.json")));
  return j;
}

using Render = std::function<std::string(const std::vector<ChatMessage>&, bool)>;

void check_family(const Render& render, const std::string& family) {
  const auto& fx = chat_fixture();
  ASSERT_EQ(fx.at("fixture_format").get<int>(), kFixtureFormat);
  const auto& exp = fx.at("expected").at(family);
  size_t row = 0;
  for (const auto& conv : fx.at("conversations")) {
    std::vector<ChatMessage> msgs;
    for (const auto& m : conv) msgs.push_back({m.at("role"), m.at("content")});
    for (const bool gen : {false, true}) {
      EXPECT_EQ(render(msgs, gen), exp.at(row).get<std::string>())
          << family << " conversation " << row / 2 << " add_generation_prompt=" << gen;
      ++row;
    }
  }
}

void check_family(const Tokenizer& t, const std::string& family) {
  check_family([&](const std::vector<ChatMessage>& m, bool gen) { return t.apply_chat_template(m, gen); }, family);
}

// The Llama-3 tokenizer.json with another chat template in its tokenizer_config.json.
std::unique_ptr<Tokenizer> llama3_with_template(const std::string& jinja) {
  auto cfg = nlohmann::json::parse(read_binary(repo_path("data/tokenizers/llama3/tokenizer_config.json")));
  cfg["chat_template"] = jinja;
  return std::make_unique<Tokenizer>(load_hf_json(read_xz(repo_path("data/tokenizers/llama3/tokenizer.json.xz")),
                                                  "llama3/tokenizer.json", cfg.dump()));
}

TEST(ChatTemplate, Llama3MatchesTransformers) {
  check_family(get_tokenizer(Tok::kLlama3Tiktoken), "llama3");
  // The same format is detected from the Jinja text of a tokenizer_config.json.
  EXPECT_EQ(get_tokenizer(Tok::kLlama3Json).chat_format(), ChatFormat::kLlama3);
  EXPECT_EQ(detect_chat_format(chat_fixture().at("llama3_template").get<std::string>()), ChatFormat::kLlama3);
}

TEST(ChatTemplate, Llama31And32MatchTransformers) {
  const auto t31 = llama3_with_template(chat_fixture().at("llama31_template"));
  EXPECT_EQ(t31->chat_format(), ChatFormat::kLlama31);
  EXPECT_EQ(t31->chat_defaults().date, "26 Jul 2024");
  check_family(*t31, "llama31");

  // Llama-3.2 asks for today's date (strftime_now); the fixture passed a fixed date_string instead.
  const auto t32 = llama3_with_template(chat_fixture().at("llama32_template"));
  EXPECT_EQ(t32->chat_format(), ChatFormat::kLlama31);
  EXPECT_EQ(t32->chat_defaults().date, today_date_string());
  const ChatDefaults fixed{"", chat_fixture().at("llama32_date")};
  check_family([&](const std::vector<ChatMessage>& m, bool gen) {
    return render_chat(ChatFormat::kLlama31, m, gen, "<|begin_of_text|>", fixed);
  }, "llama32");
}

TEST(ChatTemplate, SmolLM2MatchesTransformers) {
  const Tokenizer& t = get_tokenizer(Tok::kSmolLM2);
  EXPECT_EQ(t.chat_format(), ChatFormat::kChatMl);
  check_family(t, "smollm2");
}

TEST(ChatTemplate, PromptEncodesWithSpecialTokens) {
  const Tokenizer& t = get_tokenizer(Tok::kLlama3Tiktoken);
  const std::string p = t.apply_chat_template({{"user", "Hi"}}, true);
  const auto ids = t.encode(p, false, true);
  EXPECT_EQ(ids, (std::vector<int32_t>{128000, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271}));
  const Tokenizer& s = get_tokenizer(Tok::kSmolLM2);
  const auto sid = s.encode(s.apply_chat_template({{"user", "Hi"}}, true), false, true);
  EXPECT_EQ(sid.front(), 1);                            // <|im_start|>
  EXPECT_EQ(std::count(sid.begin(), sid.end(), 2), 2);  // two <|im_end|>: system and user
}

TEST(ChatTemplate, Helpers) {
  EXPECT_EQ(strip_unicode_space("\xC2\xA0\t a b \xE3\x80\x80\n"), "a b");
  EXPECT_EQ(strip_unicode_space("   "), "");
  EXPECT_EQ(strip_unicode_space("x"), "x");
  const std::string smol =
      "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nBe nice."
      "<|im_end|>\\n' }}{% endif %}";
  EXPECT_EQ(chat_defaults(ChatFormat::kChatMl, smol).system, "Be nice.");
  EXPECT_EQ(chat_defaults(ChatFormat::kChatMl, "{{ '<|im_start|>' + message['role'] }}").system, "");
  EXPECT_EQ(detect_chat_format("{{ messages }}"), ChatFormat::kNone);
  EXPECT_THROW(render_chat(ChatFormat::kNone, {{"user", "x"}}, true, "", {}), Error);
  // strftime("%d %b %Y"): a two-digit day, an English month abbreviation, a four-digit year.
  const std::string today = today_date_string();
  ASSERT_EQ(today.size(), 11u) << today;
  EXPECT_TRUE(std::isdigit((unsigned char)today[0]) && std::isdigit((unsigned char)today[1]) && today[2] == ' ' &&
              today[6] == ' ')
      << today;
  // GPT-2 has no chat format.
  EXPECT_THROW(get_tokenizer(Tok::kGpt2Json).apply_chat_template({{"user", "x"}}, true), Error);
  // Every format we render has a Jinja equivalent for GGUF files that had none.
  EXPECT_EQ(detect_chat_format(chat_template_jinja(ChatFormat::kLlama3)), ChatFormat::kLlama3);
  EXPECT_EQ(detect_chat_format(chat_template_jinja(ChatFormat::kLlama31)), ChatFormat::kLlama31);
  EXPECT_EQ(chat_defaults(ChatFormat::kLlama31, chat_template_jinja(ChatFormat::kLlama31)).date, "26 Jul 2024");
  EXPECT_EQ(detect_chat_format(chat_template_jinja(ChatFormat::kChatMl)), ChatFormat::kChatMl);
}

}  // namespace
}  // namespace llamba::test
