// HF checkpoint folders (io/hf_checkpoint: config.json, model.safetensors.index.json) through the converter that
// reads them (models::convert_hf and models/<arch>/hf_names.cpp: every config field, the shape checks against
// the weights, the folds). Input: config.json, then (after a NUL byte, if any) model.safetensors.index.json.
// The weights are a committed fixture of the config's model_type (llama, llamba, mamba2, gateloop), so configs
// that agree with them convert to a GGUF image that must parse again; every failure must be llamba::Error
// naming the folder.
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "io/gguf.h"
#include "io/hf_checkpoint.h"
#include "models/convert.h"

using namespace llamba;
namespace fs = std::filesystem;

namespace {

// model_type -> a scratch folder holding a copy of that architecture's fixture weights.
const std::map<std::string, std::string>& folders() {
  static const std::map<std::string, std::string> m = [] {
    const std::pair<const char*, const char*> fixtures[] = {
        {"llama", "tests/fixtures/llama_hf/tiny_tied/model.safetensors"},
        {"llamba", "tests/fixtures/mohawk/tiny/student/model.safetensors"},
        {"mamba2", "tests/fixtures/mamba2/short_t/model.safetensors"},
        {"gateloop", "tests/fixtures/gateloop/no_gate/model.safetensors"},
    };
    std::map<std::string, std::string> out;
    for (const auto& [type, file] : fixtures) {
      const fs::path dir = fuzz::scratch_dir() / type;
      fs::create_directories(dir);
      fs::copy_file(fuzz::repo_file(file), dir / "model.safetensors", fs::copy_options::overwrite_existing);
      out[type] = dir.string();
    }
    return out;
  }();
  return m;
}

// The config fields the converters read (grep of src/models/*/hf_names.cpp), through every typed accessor.
void touch_fields(const io::HfCheckpoint& c) {
  static const char* const kFields[] = {
      "model_type", "vocab_size", "hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads",
      "num_key_value_heads", "head_dim", "rope_theta", "rope_parameters.rope_theta", "rope_scaling.factor",
      "rope_scaling.rope_type", "tie_word_embeddings", "d_model", "n_layer", "mlp_cfg.intermediate_size",
      "ssm_cfg.d_state", "ssm_cfg.n_v_heads", "ssm_cfg.expand", "num_heads", "state_size", "n_groups", "dim",
      "depth", "time_step_limit", "a.b.c.d", "", "."};
  const std::string& dir = c.dir();
  for (const char* k : kFields) {
    (void)c.config_has(k);
    fuzz::expect_clean([&] { (void)c.config_int(k); }, dir);
    fuzz::expect_clean([&] { (void)c.config_int(k, 1); }, dir);
    fuzz::expect_clean([&] { (void)c.config_float(k, 1.0); }, dir);
    fuzz::expect_clean([&] { (void)c.config_bool(k, false); }, dir);
    fuzz::expect_clean([&] { (void)c.config_string(k, ""); }, dir);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split_nul(std::string_view(reinterpret_cast<const char*>(data), size), 2);
  std::string type = "llama";  // the harness's own peek, only to pick the fixture weights
  try {
    const auto j = nlohmann::json::parse(parts[0]);
    if (j.is_object() && j.contains("model_type") && j["model_type"].is_string() &&
        folders().count(j["model_type"].get<std::string>()))
      type = j["model_type"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  const std::string& dir = folders().at(type);
  fuzz::write_scratch(type + "/config.json", parts[0]);
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  if (parts.size() > 1)
    fuzz::write_scratch(type + "/model.safetensors.index.json", parts[1]);
  else
    fs::remove(index);

  std::optional<io::HfCheckpoint> c;
  if (!fuzz::expect_clean([&] { c.emplace(io::HfCheckpoint::open(dir)); }, dir)) return 0;
  touch_fields(*c);
  for (const auto& name : c->names()) (void)c->tensor(name).nbytes();
  io::GgufWriter w;
  if (!fuzz::expect_clean([&] { models::convert_hf(*c, models::ConvertOptions{}, w); }, dir)) return 0;
  const io::GgufFile g = io::GgufFile::parse(w.write_to_memory(), "converted.gguf");
  FUZZ_ASSERT(g.tensors().size() == w.tensor_count() && g.has("general.architecture"),
              "the converted image lost tensors or its architecture");
  return 0;
}
