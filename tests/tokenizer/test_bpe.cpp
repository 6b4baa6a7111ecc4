// Unit tests of the BPE building blocks: byte-level alphabet, hash tables, short vs heap merge loops,
// merge derivation from tiktoken ranks, and the added-token matcher.
#include "core/rng.h"
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

using namespace llamba::tokenizer;

TEST(ByteLevel, RoundTripsEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back((char)b);
  const std::string enc = byte_level_encode(all);
  const auto dec = byte_level_decode(enc);
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(*dec, all);
  EXPECT_EQ(byte_level_encode(" "), "\xC4\xA0");   // Ġ
  EXPECT_EQ(byte_level_encode("\n"), "\xC4\x8A");  // Ċ
  EXPECT_EQ(byte_level_encode("A!~"), "A!~");
  EXPECT_FALSE(byte_level_decode("\xE4\xBD\xA0").has_value());  // 你 is outside the alphabet
  EXPECT_FALSE(byte_level_decode("\xC4").has_value());          // truncated
  EXPECT_FALSE(byte_level_decode("\xC0\x80").has_value());      // overlong
}

TEST(FlatHash, GrowsAndFinds) {
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back(fmt::format("k{}", i * 7919));
  BytesIndex idx;
  idx.reserve(4);  // forces growth
  auto key_of = [&](int32_t v) { return std::string_view(keys[v]); };
  for (int i = 0; i < (int)keys.size(); ++i) EXPECT_EQ(idx.insert(keys[i], i, key_of), i);
  EXPECT_EQ(idx.insert(keys[10], 99, key_of), 10);  // present: keeps the first
  for (int i = 0; i < (int)keys.size(); ++i) EXPECT_EQ(idx.find(keys[i], key_of), i);
  EXPECT_EQ(idx.find("absent", key_of), -1);
  PairMap pm;
  pm.reserve(2);
  for (int i = 0; i < 3000; ++i) EXPECT_TRUE(pm.insert(i, -i - 1, Merge{i, i + 1}));
  EXPECT_FALSE(pm.insert(5, -6, Merge{0, 0}));
  for (int i = 0; i < 3000; ++i) EXPECT_EQ(pm.find(i, -i - 1).result, i + 1);
  EXPECT_EQ(pm.find(1, 1).rank, -1);
  EXPECT_EQ(pm.size(), 3000u);
}

// The linear-scan and heap merge loops must agree on every piece, short or long.
void check_merge_paths(const Tokenizer& t, uint64_t seed) {
  core::Rng rng(seed);
  const std::string& text = corpus("wikitext2_test");
  std::vector<int32_t> a, b;
  for (int k = 0; k < 3000; ++k) {
    const size_t len = 2 + rng.next_u64() % (k % 10 == 0 ? 400 : 40);
    std::string piece;
    if (k % 3 == 0) {
      for (size_t i = 0; i < len; ++i) piece.push_back((char)(rng.next_u64() & 0xFF));
    } else {
      const size_t at = rng.next_u64() % (text.size() - len);
      piece = text.substr(at, len);
    }
    a.clear();
    b.clear();
    t.bpe().merge(piece, a, false);
    t.bpe().merge(piece, b, true);
    ASSERT_EQ(a, b) << "piece " << excerpt(piece);
    EXPECT_EQ(t.decode(a), piece);
  }
}

TEST(Bpe, ShortAndHeapPathsAgree) {
  check_merge_paths(get_tokenizer(Tok::kLlama3Tiktoken), 1);
  check_merge_paths(get_tokenizer(Tok::kLlama3Json), 2);
  check_merge_paths(get_tokenizer(Tok::kGpt2Json), 3);
}

TEST(Bpe, TiktokenRanksGiveAllSplitPairs) {
  // HF's conversion of Llama-3 lists every split of every token into two tokens: 280,147 merges.
  EXPECT_EQ(get_tokenizer(Tok::kLlama3Tiktoken).bpe().merge_count(), 280147u);
  EXPECT_EQ(get_tokenizer(Tok::kLlama3Json).bpe().merge_count(), 280147u);
}

TEST(Bpe, ExportedTiktokenMergesEqualTokenizerJson) {
  // Merges derived from tokenizer.model's ranks are exactly tokenizer.json's 280,147 merges, in order.
  const auto derived = get_tokenizer(Tok::kLlama3Tiktoken).merges_for_export();
  const auto& json = get_tokenizer(Tok::kLlama3Json).model().merges;
  ASSERT_EQ(derived.size(), json.size());
  for (size_t i = 0; i < derived.size(); ++i) ASSERT_EQ(derived[i], json[i]) << "merge " << i;
}

TEST(Bpe, RankLimitedMerge) {
  // BPE over a token's bytes with only lower ranks: usually two parts; Llama-3 has tokens BPE cannot reach.
  const Tokenizer& t = get_tokenizer(Tok::kLlama3Tiktoken);
  std::vector<int32_t> out;
  t.bpe().merge(t.token_bytes(100421), out, false, 100421);  // ".:.:"
  EXPECT_EQ(out.size(), 3u);
  out.clear();
  t.bpe().merge(t.token_bytes(100421), out, false);
  EXPECT_EQ(t.decode(out), ".:.:");
  EXPECT_EQ(t.encode(".:.:", false, false), std::vector<int32_t>{100421});  // whole-piece lookup
}

TEST(SpecialMatcher, LeftmostLongestAndAlwaysTokens) {
  TokenizerModel m;
  m.path = "toy";
  for (int b = 0; b < 256; ++b) m.vocab.set(b, std::string(1, (char)b), TokenType::kNormal, true);
  m.vocab.set(256, "<a>", TokenType::kControl, false);
  m.vocab.set(257, "<a>b", TokenType::kControl, false);
  m.vocab.set(258, "[u]", TokenType::kUserDefined, false);
  m.pre_patterns = {kGpt2Pattern};
  const Tokenizer t(std::move(m));
  auto enc = [&](std::string_view s, bool special) { return t.encode(s, false, special); };
  EXPECT_EQ(enc("x<a>by", true), (std::vector<int32_t>{'x', 257, 'y'}));
  EXPECT_EQ(enc("<a><a>", true), (std::vector<int32_t>{256, 256}));
  EXPECT_EQ(enc("<a>", false), (std::vector<int32_t>{'<', 'a', '>'}));
  EXPECT_EQ(enc("1[u]2", false), (std::vector<int32_t>{'1', 258, '2'}));  // user-defined: always
  EXPECT_EQ(enc("<[u]", true), (std::vector<int32_t>{'<', 258}));
  EXPECT_TRUE(t.is_special(256));
  EXPECT_FALSE(t.is_special('a'));
}

TEST(Bpe, MissingByteTokensBecomeOneUnk) {
  // SmolLM2 has no token for byte 0x04 or 0x06; transformers' conversion fuses a run of them into one unk.
  const Tokenizer& t = get_tokenizer(Tok::kSmolLM2);
  EXPECT_EQ(t.encode("\x04\x06", false, false), (std::vector<int32_t>{0}));
  EXPECT_EQ(t.encode("\x04", false, false), (std::vector<int32_t>{0}));
}

}  // namespace
}  // namespace llamba::test
