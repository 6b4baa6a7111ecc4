// Bad Mamba-2 inputs give llamba::Error naming the file and what is wrong: GGUF files with a missing, mis-shaped or
// non-decaying tensor or inconsistent hyperparameters, and HF folders with unsupported or inconsistent config.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

#include "io/gguf.h"
#include "io/hf_checkpoint.h"
#include "models/convert.h"
#include "models/model.h"
#include "test_util.h"
#include "tiny_mamba2.h"

namespace llamba {
namespace {

namespace fs = std::filesystem;

// The load error of a copy of a good tiny file with metadata `edit_kv` applied and each tensor passed through
// `edit` (nullopt: drop it).
using TensorEdit = std::function<std::optional<core::Tensor>(const std::string&, const core::TensorView&)>;
std::string load_error(const TensorEdit& edit, const std::function<void(io::GgufWriter&)>& edit_kv = {}) {
  const std::string good = test::write_tiny_mamba2({}, 5, "bad_base");
  const auto f = io::GgufFile::open(good);
  io::GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  if (edit_kv) edit_kv(w);
  for (const auto& info : f.tensors()) {
    const auto t = edit(info.name, f.tensor(info));
    if (t) w.add_tensor(info.name, *t);
  }
  const std::string path = test::temp_path("mamba2_bad.gguf").string();
  w.write(path);
  try {
    const auto g = io::GgufFile::open(path);
    models::load_model(g);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TensorEdit keep_except(const std::string& name, std::function<std::optional<core::Tensor>(const core::TensorView&)> f) {
  return [=](const std::string& n, const core::TensorView& t) -> std::optional<core::Tensor> {
    return n == name ? f(t) : std::optional<core::Tensor>(core::Tensor::copy_of(t));
  };
}

TEST(Mamba2BadInput, GgufFiles) {
  EXPECT_EQ(load_error(keep_except("", {})), "");  // the unedited copy loads
  std::string e = load_error(keep_except("blk.1.ssm_a", [](const auto&) { return std::nullopt; }));
  EXPECT_NE(e.find("missing tensor blk.1.ssm_a"), std::string::npos) << e;
  e = load_error(keep_except("blk.0.ssm_a", [](const core::TensorView& t) {
    core::Tensor c = core::Tensor::copy_of(t);
    c.f32()[2] = 0.5f;  // A_log not folded: a growing state
    return std::optional(c);
  }));
  EXPECT_NE(e.find("ssm_a must hold A = −exp(A_log)"), std::string::npos) << e;
  e = load_error(keep_except("blk.0.ssm_norm.weight", [](const core::TensorView& t) {
    return std::optional(core::Tensor::copy_of(t.reshape({1, t.numel()}).slice(1, 0, t.numel() - 1)));
  }));
  EXPECT_NE(e.find("blk.0.ssm_norm.weight has shape"), std::string::npos) << e;
  e = load_error(keep_except("blk.0.ssm_in.weight", [](const core::TensorView& t) {
    return std::optional(core::Tensor::copy_of(t.slice(0, 0, t.size(0) - 1)));  // odd extra-row count
  }));
  EXPECT_NE(e.find("2·d_mlp"), std::string::npos) << e;
  e = load_error(keep_except("", {}),
                 [](io::GgufWriter& w) { w.set("mamba2.ssm.group_count", io::GgufValue::u32(3)); });
  EXPECT_NE(e.find("group_count 3 does not divide"), std::string::npos) << e;
  e = load_error(keep_except("", {}), [](io::GgufWriter& w) { w.remove("mamba2.ssm.time_step_rank"); });
  EXPECT_NE(e.find("mamba2.ssm.time_step_rank"), std::string::npos) << e;
}

// Converts a copy of fixture tied_g1 whose config.json was edited by `edit`; returns the error ("" if none).
std::string convert_error(const std::function<void(nlohmann::json&)>& edit) {
  const fs::path src = test::fixture_path("mamba2/tied_g1"), dir = test::temp_path("mamba2_bad_hf");
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(src / "model.safetensors", dir / "model.safetensors");
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(src / "config.json"));
  edit(cfg);
  std::ofstream(dir / "config.json") << cfg.dump();
  try {
    io::GgufWriter w;
    models::convert_hf(io::HfCheckpoint::open(dir.string()), {}, w);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(Mamba2BadInput, HfConfigs) {
  EXPECT_EQ(convert_error([](nlohmann::json&) {}), "");
  std::string e = convert_error([](nlohmann::json& c) { c["hidden_act"] = "gelu"; });
  EXPECT_NE(e.find("hidden_act \"gelu\""), std::string::npos) << e;
  e = convert_error([](nlohmann::json& c) { c["tie_word_embeddings"] = false; });
  EXPECT_NE(e.find("no lm_head.weight"), std::string::npos) << e;
  e = convert_error([](nlohmann::json& c) { c["time_step_limit"] = {0.5, 0.1}; });
  EXPECT_NE(e.find("time_step_limit"), std::string::npos) << e;
  e = convert_error([](nlohmann::json& c) { c["time_step_limit"] = {0.0, "lots"}; });
  EXPECT_NE(e.find("is not a number"), std::string::npos) << e;
  // N 16 -> 8 leaves 2·G·ΔN spare in_proj rows (read as d_mlp = 8, as mamba_ssm would); the conv shape catches it.
  e = convert_error([](nlohmann::json& c) { c["state_size"] = 8; });
  EXPECT_NE(e.find("conv1d.weight has shape (64, 1, 4), config.json implies (48, 1, 4)"), std::string::npos) << e;
  e = convert_error([](nlohmann::json& c) { c["state_size"] = 32; });  // too few rows
  EXPECT_NE(e.find("in_proj.weight has 100 rows; config.json implies 132"), std::string::npos) << e;
}

}  // namespace
}  // namespace llamba
