// `prepare-data` on the corpora as they ship in data/corpus (xz-compressed): the text is decompressed before it
// is tokenized (it once tokenized the compressed bytes), and meta.json records the tokenizer's fingerprint.
#include <gtest/gtest.h>

#include <fstream>

#include "io/gguf.h"
#include "io/xz.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "train/data/prepare.h"
#include "train/data/token_shards.h"

namespace llamba {
namespace {

TEST(PrepareData, DecompressesXzInputsAndRecordsTheTokenizer) {
  const std::string vocab = test::temp_path("prepare_smollm2.gguf").string();
  {
    const std::string d = io::read_xz_file(test::fixture_path("tokenizer/smollm2_vocab.gguf.xz"));
    std::ofstream(vocab, std::ios::binary).write(d.data(), (std::streamsize)d.size());
  }
  const auto tok = tokenizer::Tokenizer::from_gguf(io::GgufFile::open(vocab));
  const std::string src = test::source_dir() + "/data/corpus/tinyshakespeare.txt.xz";
  const std::string text = io::read_xz_file(src);
  const std::string out = test::temp_path("prepare_out").string();
  train::PrepareOptions o;
  o.val_fraction = 0.1;
  const auto st = train::prepare_data(*tok, {src}, out, o);
  EXPECT_EQ(st.bytes, (int64_t)text.size());
  const auto shards = train::open_shard_dir(out);
  EXPECT_EQ(shards.tokenizer_fingerprint, tok->fingerprint());
  // The first training tokens decode to the start of the decompressed text.
  std::vector<int32_t> head;
  for (int64_t i = 0; i < 32; ++i) head.push_back(shards.train[0][i]);
  const std::string decoded = tok->decode(head);
  EXPECT_EQ(text.compare(0, decoded.size(), decoded), 0) << decoded;
  EXPECT_GT(st.train_tokens, (int64_t)text.size() / 8);  // English at ~4 bytes per token, not ~1 (binary)
}

}  // namespace
}  // namespace llamba
