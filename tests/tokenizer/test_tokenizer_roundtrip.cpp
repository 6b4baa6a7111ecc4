// decode(encode(x)) == x byte for byte on the corpora, the hard set and random bytes (invalid UTF-8 included),
// with and without special-token parsing; the streaming decoder never emits broken UTF-8.
#include <thread>

#include "core/rng.h"
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

using namespace llamba::tokenizer;

// SmolLM2 has no token for these bytes (they become <|endoftext|>): texts containing them cannot round-trip.
bool smollm2_can_encode(std::string_view s) {
  static const std::string missing = {'\x04', '\x06', '\x13', '\x14', '\x16', '\x1d', '\xc0',
                                      '\xc1', '\xf1', '\xf2', '\xf5', '\xf6', '\xf7', '\xf8',
                                      '\xf9', '\xfa', '\xfb', '\xfc', '\xfd', '\xfe', '\xff'};
  return s.find_first_of(missing) == std::string_view::npos;
}

const Tok kAll[] = {Tok::kLlama3Tiktoken, Tok::kLlama3Json, Tok::kGpt2Json, Tok::kSmolLM2};

TEST(RoundTrip, Corpora) {
  for (const Tok k : kAll) {
    const Tokenizer& t = get_tokenizer(k);
    for (const auto& name : corpus_names()) {
      const std::string& text = corpus(name);
      EXPECT_TRUE(t.decode(t.encode(text, false, false)) == text) << tok_name(k) << " " << name;
    }
  }
}

TEST(RoundTrip, HardSet) {
  for (const Tok k : kAll) {
    const Tokenizer& t = get_tokenizer(k);
    for (const auto& c : hard_set().at("cases")) {
      const std::string text = c.at("text");
      if (k == Tok::kSmolLM2 && !smollm2_can_encode(text)) continue;
      for (const bool special : {false, true})
        EXPECT_EQ(t.decode(t.encode(text, false, special)), text) << tok_name(k) << " " << c.at("name");
    }
  }
}

TEST(RoundTrip, RandomBytesIncludingInvalidUtf8) {
  core::Rng rng(11);
  const std::string pieces[] = {"\xC3\xA9", "\xE2\x82", "\xAC",         "\xF0\x9F\xA4\x97", " ",
                                "\n",       "'s",       "<|eot_id|>",   "<|im_end|>",       "123",
                                "abc",      "\xFF",     "\xED\xA0\x80", "\xC0\xAF"};
  for (const Tok k : kAll) {
    const Tokenizer& t = get_tokenizer(k);
    for (int n = 0; n < 2000; ++n) {
      std::string s;
      const int len = (int)(rng.next_u64() % 64);
      for (int i = 0; i < len; ++i) {
        const uint64_t r = rng.next_u64();
        if (r % 2)
          s.push_back((char)(r >> 8));
        else
          s += pieces[(r >> 8) % std::size(pieces)];
      }
      if (k == Tok::kSmolLM2 && !smollm2_can_encode(s)) continue;
      for (const bool special : {false, true})
        ASSERT_EQ(t.decode(t.encode(s, false, special)), s) << tok_name(k) << " " << excerpt(s);
    }
  }
}

TEST(RoundTrip, LongPieces) {
  const Tokenizer& t = get_tokenizer(Tok::kLlama3Tiktoken);
  for (const std::string& s : {std::string(1 << 20, 'a'), std::string(1 << 20, ' '), std::string(300000, '\xFF'),
                               std::string(200000, 'x') + std::string(200000, '\n')}) {
    EXPECT_TRUE(t.decode(t.encode(s, false, false)) == s);
  }
}

// --- streaming ------------------------------------------------------------------------------------------

bool is_valid_utf8(std::string_view s) { return valid_utf8_prefix(s.data(), s.size()) == s.size(); }

TEST(StreamDecoder, SplitCharactersWaitForTheirEnd) {
  const Tokenizer& t = get_tokenizer(Tok::kLlama3Tiktoken);
  StreamDecoder d(t);
  // "🤗" is four byte tokens here: nothing appears until the last one.
  const auto ids = t.encode("\xF0\x9F\xA4\x97!", false, false);
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string piece = d.push(ids[i]);
    EXPECT_TRUE(is_valid_utf8(piece));
    out += piece;
  }
  out += d.flush();
  EXPECT_EQ(out, "\xF0\x9F\xA4\x97!");
}

TEST(StreamDecoder, ReplacesIllFormedBytesLikePython) {
  // Expected strings are Python's bytes.decode("utf-8", "replace") (one U+FFFD per maximal ill-formed subpart).
  const std::string R = "\xEF\xBF\xBD";
  const std::pair<std::string, std::string> cases[] = {{"\xE2\x82"
                                                        "A",
                                                        R + "A"},
                                                       {"\xED\xA0\x80", R + R + R},
                                                       {"\xC0\xAF", R + R},
                                                       {"a\xFF"
                                                        "b",
                                                        "a" + R + "b"},
                                                       {"\xF0\x9F\x98", R},
                                                       {"\xF4\x90\x80\x80", R + R + R + R},
                                                       {"\xE2\x82\xAC", "\xE2\x82\xAC"},
                                                       {"\xF0\x9F"
                                                        "A\x98",
                                                        R + "A" + R}};
  for (const auto& [in, want] : cases) EXPECT_EQ(sanitize_utf8(in, false, nullptr), want) << excerpt(in);
  const Tokenizer& t = get_tokenizer(Tok::kGpt2Json);
  StreamDecoder d(t);
  EXPECT_EQ(d.push_bytes("\xF0\x9F"), "");
  EXPECT_EQ(d.pending_bytes(), 2u);
  EXPECT_EQ(d.flush(), R);  // the stream ended inside a character
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(StreamDecoder, ConcatenationEqualsSanitizedDecode) {
  core::Rng rng(5);
  for (const Tok k : {Tok::kLlama3Tiktoken, Tok::kSmolLM2}) {
    const Tokenizer& t = get_tokenizer(k);
    for (int n = 0; n < 300; ++n) {
      std::vector<int32_t> ids;
      if (n % 2) {
        for (int i = 0; i < 50; ++i) ids.push_back((int32_t)(rng.next_u64() % t.vocab_size()));  // any ids
      } else {
        const std::string& c = corpus("sotu");
        ids = t.encode(std::string_view(c).substr(rng.next_u64() % (c.size() - 500), 500), false, false);
      }
      StreamDecoder d(t);
      std::string out;
      for (const int32_t id : ids) {
        const std::string piece = d.push(id);
        ASSERT_TRUE(is_valid_utf8(piece));
        out += piece;
      }
      out += d.flush();
      EXPECT_EQ(out, sanitize_utf8(t.decode(ids), false, nullptr));
    }
  }
}

TEST(Encode, ConcurrentCallsGiveSerialResults) {
  // One tokenizer shared by several threads (per-thread match scratch and piece cache).
  for (const Tok k : {Tok::kLlama3Tiktoken, Tok::kGpt2Json}) {
    const Tokenizer& t = get_tokenizer(k);
    const std::string& text = corpus("tinyshakespeare");
    const size_t n = 8, part = text.size() / n;
    std::vector<std::vector<int32_t>> serial(n), parallel(n);
    for (size_t i = 0; i < n; ++i) serial[i] = t.encode(std::string_view(text).substr(i * part, part), false, true);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; ++i)
      threads.emplace_back(
          [&, i] { parallel[i] = t.encode(std::string_view(text).substr(i * part, part), false, true); });
    for (auto& th : threads) th.join();
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(parallel[i], serial[i]) << tok_name(k) << " part " << i;
  }
}

TEST(Decode, BadIdThrows) {
  const Tokenizer& t = get_tokenizer(Tok::kGpt2Json);
  const std::vector<int32_t> bad = {50257};
  EXPECT_THROW(t.decode(bad), Error);
  EXPECT_THROW(t.token_bytes(-1), Error);
}

}  // namespace
}  // namespace llamba::test
