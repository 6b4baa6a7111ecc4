// Training building blocks: LR schedules, token shards and the seeded, resumable loader, the PNG loss curve.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "train/data/token_shards.h"
#include "io/plot.h"
#include "train/optim/schedule.h"
#include "test_util.h"

namespace llamba {
namespace {

namespace fs = std::filesystem;

TEST(Schedule, CosineAndWsd) {
  train::ScheduleConfig c;
  c.lr = 1.0;
  c.min_lr = 0.1;
  c.warmup_steps = 10;
  c.total_steps = 110;
  train::check_schedule(c);
  EXPECT_DOUBLE_EQ(train::lr_at(c, 0), 0.1);
  EXPECT_DOUBLE_EQ(train::lr_at(c, 9), 1.0);
  EXPECT_DOUBLE_EQ(train::lr_at(c, 10), 1.0);
  EXPECT_NEAR(train::lr_at(c, 60), 0.55, 1e-12);
  EXPECT_NEAR(train::lr_at(c, 110), 0.1, 1e-12);
  c.kind = "wsd";
  c.decay_fraction = 0.2;  // decay over steps [88, 110)
  EXPECT_DOUBLE_EQ(train::lr_at(c, 87), 1.0);
  EXPECT_NEAR(train::lr_at(c, 99), 0.1 + 0.9 * (1.0 - 11.0 / 22.0), 1e-12);
  c.kind = "bogus";
  EXPECT_THROW(train::check_schedule(c), Error);
}

TEST(TokenShards, LoaderIsSeededCompleteAndResumable) {
  const fs::path dir = test::temp_path("llamba_shards_test");
  fs::create_directories(dir);
  std::vector<int32_t> a(1001), b(517);
  for (size_t i = 0; i < a.size(); ++i) a[i] = (int32_t)(i % 300);
  for (size_t i = 0; i < b.size(); ++i) b[i] = (int32_t)(70000 + i % 5);  // needs 4-byte ids
  train::write_token_shard((dir / "a.bin").string(), a, 300);
  train::write_token_shard((dir / "b.bin").string(), b, 70005);
  const auto sa = train::TokenShard::open((dir / "a.bin").string());
  const auto sb = train::TokenShard::open((dir / "b.bin").string());
  EXPECT_EQ(sa.size(), 1001);
  EXPECT_EQ(sa[1000], 1000 % 300);
  EXPECT_EQ(sb[3], 70003);
  std::vector<train::TokenShard> shards = {sa};
  const int64_t T = 10;
  train::TokenLoader l1(&shards, T, 42, true), l2(&shards, T, 42, true);
  EXPECT_EQ(l1.windows(), 100);  // windows start at 0, 10, ..., 990
  std::vector<int32_t> x1, x2;
  std::set<int32_t> starts;
  for (int i = 0; i < 25; ++i) {  // one epoch in batches of 4
    l1.next(4, x1);
    l2.next(4, x2);
    ASSERT_EQ(x1, x2);
    for (int k = 0; k < 4; ++k) {
      starts.insert(x1[k * (T + 1)]);
      for (int t = 1; t <= T; ++t) ASSERT_EQ(x1[k * (T + 1) + t], (x1[k * (T + 1)] + t) % 300);
    }
  }
  EXPECT_EQ(l1.position().epoch, 0);
  EXPECT_EQ(l1.position().cursor, 100);
  // Resume mid-epoch-2 from a saved position.
  l1.next(3, x1);
  const auto pos = l1.position();
  l1.next(5, x1);
  train::TokenLoader l3(&shards, T, 42, true);
  l3.seek(pos);
  l3.next(5, x2);
  EXPECT_EQ(x1, x2);
  // Bad files are named.
  std::ofstream((dir / "bad.bin").string()) << "garbage that is not a shard at all....";
  try {
    train::TokenShard::open((dir / "bad.bin").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.bin"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(LossCurve, WritesAPng) {
  io::Series s{"train", {}, {}};
  for (int i = 0; i < 50; ++i) s.x.push_back(i), s.y.push_back(5.0 * std::exp(-i / 10.0) + 1);
  const std::string path = test::temp_path("llamba_curve.png").string();
  io::plot_png(path, "loss", {s, {"val", {0, 25, 49}, {6, 2, 1.1}}});
  std::ifstream in(path, std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(png.size(), 8u + 25 + 12);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  // IHDR first (800 × 500, 8-bit RGB), then one IDAT that inflates to 500 rows of filter byte + 800 pixels,
  // some of them drawn (not white).
  auto be32 = [&](size_t at) {
    return (uint32_t)(uint8_t)png[at] << 24 | (uint32_t)(uint8_t)png[at + 1] << 16 |
           (uint32_t)(uint8_t)png[at + 2] << 8 | (uint8_t)png[at + 3];
  };
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(16), 800u);
  EXPECT_EQ(be32(20), 500u);
  const size_t idat = 8 + 25;
  ASSERT_EQ(png.substr(idat + 4, 4), "IDAT");
  std::vector<uint8_t> raw(500 * (800 * 3 + 1));
  uLongf n = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &n, (const Bytef*)png.data() + idat + 8, be32(idat)), Z_OK);
  EXPECT_EQ(n, raw.size());
  EXPECT_LT(fs::file_size(path), raw.size() / 20) << "deflate should shrink a mostly white plot";
  size_t drawn = 0;
  for (uint8_t v : raw) drawn += v != 255 && v != 0;
  EXPECT_GT(drawn, 1000u);
}

}  // namespace
}  // namespace llamba
