// A Hugging Face checkpoint directory: config.json plus model.safetensors, or shards listed in
// model.safetensors.index.json. Tensor lookups name the shard and tensor on error.
// Thread safety: immutable after open.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace llamba::io {

class HfCheckpoint {
 public:
  // Opens `dir`; throws llamba::Error naming the missing or malformed file.
  static HfCheckpoint open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const nlohmann::json& config() const { return config_; }
  std::vector<std::string> names() const;  // every tensor, sorted
  bool has(const std::string& name) const { return where_.count(name) != 0; }
  core::TensorView tensor(const std::string& name) const;  // throws "<dir>: missing tensor <name>"
  std::string file_of(const std::string& name) const;

  bool config_has(const std::string& path) const { return lookup(path) != nullptr; }
  // Typed config access; errors name config.json and the field ("ssm_cfg.d_state"). Integers must lie in
  // [-2^30, 2^30], so that converter arithmetic on them cannot overflow.
  int64_t config_int(const std::string& path) const;
  int64_t config_int(const std::string& path, int64_t def) const;
  double config_float(const std::string& path, double def) const;
  bool config_bool(const std::string& path, bool def) const;
  std::string config_string(const std::string& path, const std::string& def) const;

 private:
  const nlohmann::json* lookup(const std::string& path) const;
  std::string dir_;
  nlohmann::json config_;
  std::vector<std::shared_ptr<SafetensorsFile>> shards_;
  std::map<std::string, size_t> where_;  // tensor -> shard index
};

}  // namespace llamba::io
