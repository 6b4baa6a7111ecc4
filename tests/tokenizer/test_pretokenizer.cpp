// Pre-tokenizer: UTF-8 scanning, pieces tile the input, JIT and interpreter agree, very long runs of one
// character class neither fail nor split differently, named GGUF chains, bad patterns are reported.
#include "core/rng.h"
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

using namespace llamba::tokenizer;

std::vector<std::string_view> pieces(const PreTokenizer& p, std::string_view text) {
  std::vector<std::string_view> out;
  p.split(text, [&](std::string_view s) { out.push_back(s); });
  return out;
}

void expect_tiles(const std::vector<std::string_view>& ps, std::string_view text) {
  const char* at = text.data();
  for (const auto& s : ps) {
    ASSERT_EQ(s.data(), at);
    ASSERT_FALSE(s.empty());
    at += s.size();
  }
  ASSERT_EQ(at, text.data() + text.size());
}

// A slow, obvious UTF-8 validator (RFC 3629) to check the fast one against.
bool valid_utf8_ref(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = (uint8_t)s[i];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
      n = 1;
      cp = c;
      min = 0;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
      min = 0x10000;
    } else
      return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if (((uint8_t)s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | ((uint8_t)s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

TEST(Utf8, PrefixMatchesReferenceOnRandomBytes) {
  core::Rng rng(7);
  const std::string valid = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA4\x97";
  for (int k = 0; k < 20000; ++k) {
    std::string s;
    const int n = 1 + (int)(rng.next_u64() % 24);
    for (int i = 0; i < n; ++i) {
      const uint64_t r = rng.next_u64();
      if (r % 3 == 0)
        s += valid.substr(r % valid.size(), 1 + (r >> 8) % 4);
      else
        s.push_back((char)((r >> 16) & 0xFF));
    }
    const size_t p = valid_utf8_prefix(s.data(), s.size());
    ASSERT_TRUE(valid_utf8_ref(s.substr(0, p))) << excerpt(s);
    if (p < s.size()) {
      // The prefix is maximal: no valid sequence starts at p.
      for (size_t e = p + 1; e <= std::min(s.size(), p + 4); ++e) ASSERT_FALSE(valid_utf8_ref(s.substr(p, e - p)));
      ASSERT_GE(invalid_utf8_run(s.data() + p, s.size() - p), 1u);
    }
  }
  EXPECT_EQ(valid_utf8_prefix("\xED\xA0\x80", 3), 0u);      // surrogate
  EXPECT_EQ(valid_utf8_prefix("\xF4\x90\x80\x80", 4), 0u);  // > U+10FFFF
  EXPECT_EQ(valid_utf8_prefix("ab\xC0\xAF", 4), 2u);        // overlong
}

TEST(PreTokenizer, JitAndInterpreterAgree) {
  for (const auto& chain : {pre_patterns_for("llama-bpe"), pre_patterns_for("smollm"), pre_patterns_for("gpt-2")}) {
    const PreTokenizer jit(chain, true), interp(chain, false);
    EXPECT_FALSE(interp.jit());
    for (const auto& name : corpus_names()) {
      const std::string_view text = std::string_view(corpus(name)).substr(0, 1 << 20);
      const auto a = pieces(jit, text), b = pieces(interp, text);
      ASSERT_EQ(a.size(), b.size()) << name;
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i].data(), b[i].data()) << name << " piece " << i;
      expect_tiles(a, text);
    }
    for (const auto& c : hard_set().at("cases")) {
      const std::string text = c.at("text");
      const auto a = pieces(jit, text), b = pieces(interp, text);
      ASSERT_EQ(a.size(), b.size()) << c.at("name");
      expect_tiles(a, text);
    }
  }
}

TEST(PreTokenizer, LongRunsOfOneClass) {
  const PreTokenizer llama(pre_patterns_for("llama-bpe")), gpt2(pre_patterns_for("gpt-2"));
  const size_t n = 4 << 20;
  for (const std::string& s :
       {std::string(n, 'a'), std::string(n, ' '), std::string(n, '\n'), std::string(n, '7'), std::string(n, '.'),
        std::string(n, ' ') + "x", std::string(n / 2, ' ') + "\n" + std::string(n / 2, ' ')}) {
    for (const PreTokenizer* p : {&llama, &gpt2}) {
      const auto ps = pieces(*p, s);
      expect_tiles(ps, s);
    }
  }
  // Letters stay one piece; Llama-3 digits go in threes; a trailing space run keeps its last space apart.
  EXPECT_EQ(pieces(llama, std::string(n, 'a')).size(), 1u);
  EXPECT_EQ(pieces(llama, std::string(3000, '7')).size(), 1000u);
  EXPECT_EQ(pieces(gpt2, std::string(100, ' ') + "x").size(), 2u);
}

TEST(PreTokenizer, InvalidUtf8IsItsOwnPiece) {
  const PreTokenizer p(pre_patterns_for("llama-bpe"));
  const std::string s = "ab\xFF\xFE cd\xC3";
  const auto ps = pieces(p, s);
  expect_tiles(ps, s);
  std::vector<std::string> got(ps.begin(), ps.end());
  EXPECT_EQ(got, (std::vector<std::string>{"ab", "\xFF\xFE", " cd", "\xC3"}));
}

TEST(PreTokenizer, NamedChains) {
  EXPECT_EQ(pre_patterns_for("llama-bpe"), std::vector<std::string>{kLlama3Pattern});
  EXPECT_EQ(pre_patterns_for("smollm").size(), 2u);
  EXPECT_EQ(pre_patterns_for("starcoder"), pre_patterns_for("smollm"));
  EXPECT_EQ(pre_patterns_for("refact"), pre_patterns_for("smollm"));
  EXPECT_TRUE(pre_patterns_for("qwen2").empty());
  const PreTokenizer smol(pre_patterns_for("smollm"));
  std::vector<std::string> got;
  for (auto s : pieces(smol, "a  2024x")) got.emplace_back(s);
  EXPECT_EQ(got, (std::vector<std::string>{"a", "  ", "2", "0", "2", "4", "x"}));
}

TEST(PreTokenizer, BadPatternThrows) {
  try {
    PreTokenizer p({"(unclosed"});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad pre-tokenizer regex"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace llamba::test
