// `llamba bench`: the matrix runs every combination with the repetitions asked for, recurrent state stays
// constant while a KV cache grows with depth, the FLOP and byte counts follow the model's tensors, the three
// output formats carry every row, the plots are written, and bad flags get clear errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "bench/report.h"
#include "cli_util.h"
#include "distill/tiny_teacher.h"
#include "models/tiny_llamba.h"

namespace llamba {
namespace {

struct Loaded {
  std::unique_ptr<io::GgufFile> file;
  std::unique_ptr<models::Model> model;
  explicit Loaded(const std::string& path)
      : file(std::make_unique<io::GgufFile>(io::GgufFile::open(path))), model(models::load_model(*file)) {}
};

bench::Spec small_spec() {
  bench::Spec s;
  s.prefill = {8};
  s.decode = {3};
  s.depths = {0, 20};
  s.seqs = {1, 2};
  s.threads = {1};
  s.reps = 2;
  return s;
}

std::string tiny_llamba_path() {
  static const std::string p = test::write_tiny_llamba({}, 5, "bench_llamba");
  return p;
}

TEST(Bench, RunsTheWholeMatrix) {
  Loaded m(tiny_llamba_path());
  size_t calls = 0;
  const auto rs = bench::run(*m.model, small_spec(), 1, [&](size_t done, size_t total, const bench::Result&) {
    EXPECT_EQ(done, ++calls);
    EXPECT_EQ(total, 8u);
  });
  ASSERT_EQ(rs.size(), 8u);  // 2 sequence counts × 2 depths × (prefill, decode)
  for (const auto& r : rs) {
    EXPECT_EQ(r.seconds.size(), 2u) << r.test();
    EXPECT_GT(r.tokens_per_s_mean(), 0) << r.test();
    EXPECT_EQ(r.threads, 1);
  }
  EXPECT_EQ(rs[0].test(), "pp8");
  EXPECT_EQ(rs[1].test(), "tg3");
  EXPECT_EQ(rs[3].test(), "tg3 @ d20");
  EXPECT_EQ(rs[4].seqs, 2);
  EXPECT_EQ(rs[4].tokens(), 16);
  // A recurrent state does not grow with depth; two sequences hold twice one.
  EXPECT_EQ(rs[0].state_bytes, rs[3].state_bytes);
  EXPECT_EQ(rs[4].state_bytes, 2 * rs[0].state_bytes);
}

TEST(Bench, KvCacheGrowsWithDepth) {
  Loaded m(test::tiny_teacher_path());
  bench::Spec s = small_spec();
  s.seqs = {1};
  s.depths = {0, 200};
  s.reps = 1;
  const auto rs = bench::run(*m.model, s, 1);
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_GT(rs[2].state_bytes, rs[0].state_bytes);
}

TEST(Bench, CostsFollowTheTensors) {
  Loaded m(tiny_llamba_path());
  const bench::ModelCost c = bench::model_cost(*m.model);
  EXPECT_EQ(c.params, m.model->n_params());
  EXPECT_EQ(c.head, 96 * 32);  // tied: the embedding is the head
  EXPECT_GT(c.body, 0);
  EXPECT_EQ(c.weight_bytes, c.params * 4);  // every tensor f32
  bench::Result pp;
  pp.kind = bench::Kind::kPrefill, pp.n = 8, pp.seqs = 2, pp.state_bytes = 100;
  EXPECT_DOUBLE_EQ(c.flops(pp), 2.0 * (c.body * 16.0 + c.head * 2.0));  // the head once per row's last position
  bench::Result tg = pp;
  tg.kind = bench::Kind::kDecode;
  EXPECT_DOUBLE_EQ(c.flops(tg), 2.0 * (c.body + c.head) * 16.0);
  EXPECT_DOUBLE_EQ(c.bytes(tg), 8.0 * (c.weight_bytes + 200.0));  // every step reads the weights and the states
}

TEST(Bench, ReportsCarryEveryRow) {
  Loaded m(tiny_llamba_path());
  bench::Spec s = small_spec();
  s.reps = 1;
  const auto rs = bench::run(*m.model, s, 1);
  const bench::ModelLabel label{"tiny", "F32", bench::model_cost(*m.model)};
  const auto j = nlohmann::json::parse(bench::json(label, rs));
  ASSERT_EQ(j.size(), rs.size());
  EXPECT_EQ(j[3]["test"], "tg3 @ d20");
  EXPECT_EQ(j[3]["n_gen"], 3);
  EXPECT_EQ(j[3]["depth"], 20);
  EXPECT_GT(j[3]["avg_ts"].get<double>(), 0);
  std::istringstream csv(bench::csv(label, rs)), md(bench::markdown(label, rs));
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 1 + (int)rs.size());
  lines = 0;
  while (std::getline(md, line)) {
    ++lines;
    if (lines > 2) {
      EXPECT_NE(line.find("| tiny F32 |"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(lines, 2 + (int)rs.size());
  const auto dir = test::temp_path("bench_plots");
  const auto files = bench::plots(dir.string(), label, rs);
  EXPECT_EQ(files.size(), 3u);
  for (const auto& f : files) EXPECT_GT(std::filesystem::file_size(f), 100u) << f;
}

TEST(Bench, BadSpecsSayWhichFlag) {
  bench::Spec s = small_spec();
  s.prefill = {-4};
  EXPECT_THROW(
      {
        try {
          bench::validate(s);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("-p"), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
  s = small_spec();
  s.prefill.clear();
  s.decode.clear();
  EXPECT_THROW(bench::validate(s), Error);
  s = small_spec();
  s.depths = {-1};
  EXPECT_THROW(bench::validate(s), Error);
}

TEST(BenchCli, JsonOutAndClearErrors) {
  if (test::llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
  const std::string model = tiny_llamba_path();
  auto r = test::run_llamba("bench -m '" + model + "' -p 8 -n 2 -b 1,3 -r 1 -t 1 -o json -q 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[2]["seqs"], 3);
  r = test::run_llamba("bench -m '" + model + "' -p 0 -n 0");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("no tests"), std::string::npos) << r.out;
  r = test::run_llamba("bench -m '" + model + "' -r 0");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("outside [1, 1000]"), std::string::npos) << r.out;
  r = test::run_llamba("bench -m '" + model + "' -o xml");
  EXPECT_NE(r.code, 0);
  r = test::run_llamba("bench -m /nonexistent/model.gguf");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("/nonexistent/model.gguf"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace llamba
