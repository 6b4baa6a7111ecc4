// `llamba convert` for LlamaForCausalLM: tiny random HF checkpoints (tools/reference/make_llama_hf_fixtures.py)
// converted to GGUF and run, against transformers' logits — including positions past 8192, where llama3 rope
// scaling matters, and a tied and an untied head.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "io/gguf.h"
#include "io/hf_checkpoint.h"
#include "io/safetensors.h"
#include "models/convert.h"
#include "models/model.h"
#include "test_util.h"

namespace llamba {
namespace {

// fp32 on both sides with identical weights: differences come from summation order only. Over 8200 tokens the
// attention sums have K = 8200 terms (sqrt(K)·eps ≈ 1e-5 relative) — 5e-5 keeps a margin; short prompts 1e-5.
constexpr double kShortTol = 1e-5;
constexpr double kLongTol = 5e-5;

std::string convert_to_temp(const std::string& name, core::DType type = core::DType::kCount) {
  const auto ckpt = io::HfCheckpoint::open(test::fixture_path("llama_hf/" + name));
  io::GgufWriter w;
  models::ConvertOptions opts;
  opts.matrix_type = type;
  models::convert_hf(ckpt, opts, w);
  const std::string out = test::temp_path("hf_" + name + ".gguf").string();
  w.write(out);
  return out;
}

std::vector<float> run(const models::Model& m, const std::vector<int32_t>& ids, bool all) {
  ops::Context ctx;
  auto st = m.new_state();
  models::SequenceState* sp = st.get();
  std::vector<float> logits((all ? ids.size() : 1) * m.info().n_vocab);
  models::ForwardOptions o;
  o.all_logits = all;
  const int64_t rows = all ? (int64_t)ids.size() : 0;
  m.forward(ctx, ids, 1, {&sp, 1}, all ? core::view_f32(logits, {1, rows, m.info().n_vocab}) : core::view_f32(logits, {1, m.info().n_vocab}), o);
  return logits;
}

class LlamaHfImport : public ::testing::TestWithParam<std::string> {};

TEST_P(LlamaHfImport, ConvertedModelMatchesTransformers) {
  const std::string path = convert_to_temp(GetParam());
  const auto gguf = io::GgufFile::open(path);
  auto model = models::load_model(gguf);
  const auto ref = io::SafetensorsFile::open(test::fixture_path("llama_hf/" + GetParam() + "/reference.safetensors"));
  const auto ids64 = ref.to_i64("input_ids");
  const std::vector<int32_t> ids(ids64.begin(), ids64.end());
  const auto logits = run(*model, ids, true);
  const core::Tensor want = ref.to_f32("logits");
  const double err = test::rel_max_error(logits.data(), want.f32(), want.numel());
  EXPECT_LE(err, kShortTol);

  // Long sequence: logits of the last 8 positions (> 8192).
  const auto long64 = ref.to_i64("long_ids");
  const std::vector<int32_t> long_ids(long64.begin(), long64.end());
  const auto all = run(*model, long_ids, true);
  const core::Tensor want_long = ref.to_f32("long_logits");
  const int64_t V = model->info().n_vocab;
  const double err_long = test::rel_max_error(all.data() + (long_ids.size() - 8) * V, want_long.f32(), 8 * V);
  std::printf("%s: short %.3g, long (T=%zu) %.3g\n", GetParam().c_str(), err, long_ids.size(), err_long);
  EXPECT_LE(err_long, kLongTol);
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, LlamaHfImport, ::testing::Values("tiny_llama3_untied", "tiny_tied"));

TEST(LlamaHfImport, ShardedCheckpointEqualsSingleFile) {
  // Split tiny_tied into two shards with a model.safetensors.index.json, as large HF checkpoints ship.
  namespace fs = std::filesystem;
  const fs::path src = test::fixture_path("llama_hf/tiny_tied");
  const fs::path dir = test::temp_path("llamba_sharded_llama");
  fs::create_directories(dir);
  fs::copy_file(src / "config.json", dir / "config.json", fs::copy_options::overwrite_existing);
  const auto whole = io::SafetensorsFile::open((src / "model.safetensors").string());
  io::SafetensorsWriter a, b;
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  int i = 0;
  for (const auto& e : whole.entries()) {
    const bool first = i++ % 2 == 0;
    (first ? a : b).add(e.name, whole.tensor(e.name));
    index["weight_map"][e.name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  a.write((dir / "model-00001-of-00002.safetensors").string());
  b.write((dir / "model-00002-of-00002.safetensors").string());
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  const auto ckpt = io::HfCheckpoint::open(dir.string());
  io::GgufWriter w;
  models::convert_hf(ckpt, {}, w);
  const std::string out = (dir / "out.gguf").string();
  w.write(out);
  const auto gguf = io::GgufFile::open(out);
  auto model = models::load_model(gguf);
  const auto ref = io::SafetensorsFile::open((src / "reference.safetensors").string());
  const auto ids64 = ref.to_i64("input_ids");
  const auto logits = run(*model, {ids64.begin(), ids64.end()}, true);
  const core::Tensor want = ref.to_f32("logits");
  EXPECT_LE(test::rel_max_error(logits.data(), want.f32(), want.numel()), kShortTol);
  // A weight_map entry pointing at a shard that lacks the tensor is named.
  index["weight_map"]["model.norm.weight"] = "model-00001-of-00002.safetensors";
  const bool norm_in_first = a.has("model.norm.weight");
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  if (!norm_in_first) {
    try {
      io::HfCheckpoint::open(dir.string());
      ADD_FAILURE() << "a wrong weight_map must be rejected";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("model.norm.weight"), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

TEST(LlamaHfImport, Q8_0OutputStaysClose) {
  // Q8_0 matrices: per-weight error <= d/2 with d = max|w|/127, i.e. ~0.4% of the block's largest weight;
  // on this tiny model the logits move by ~1e-2 relative. The point is that quantized export loads and runs.
  const std::string path = convert_to_temp("tiny_tied", core::DType::kQ8_0);
  const auto gguf = io::GgufFile::open(path);
  EXPECT_EQ(gguf.find_tensor("blk.0.attn_q.weight")->dtype, core::DType::kQ8_0);
  EXPECT_EQ(gguf.find_tensor("blk.0.attn_norm.weight")->dtype, core::DType::kF32);
  auto model = models::load_model(gguf);
  const auto ref = io::SafetensorsFile::open(test::fixture_path("llama_hf/tiny_tied/reference.safetensors"));
  const auto ids64 = ref.to_i64("input_ids");
  const auto logits = run(*model, {ids64.begin(), ids64.end()}, true);
  const core::Tensor want = ref.to_f32("logits");
  EXPECT_LE(test::rel_max_error(logits.data(), want.f32(), want.numel()), 5e-2);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace llamba
