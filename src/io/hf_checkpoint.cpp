// HfCheckpoint: config.json parsing and (sharded) safetensors lookup.
#include "io/hf_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/json_depth.h"

namespace llamba::io {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {
json read_json(const std::string& path) {
  std::ifstream in(path);
  LLAMBA_ENSURE(in.good(), "{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::exception& e) {
    LLAMBA_THROW("{}: invalid JSON: {}", path, e.what());
  }
  LLAMBA_ENSURE(json_depth(j) <= kMaxJsonDepth, "{}: JSON nested deeper than {} levels", path, kMaxJsonDepth);
  return j;
}
}  // namespace

HfCheckpoint HfCheckpoint::open(const std::string& dir) {
  HfCheckpoint c;
  c.dir_ = dir;
  LLAMBA_ENSURE(fs::is_directory(dir), "{}: not a directory (expected a Hugging Face checkpoint folder)", dir);
  c.config_ = read_json((fs::path(dir) / "config.json").string());
  LLAMBA_ENSURE(c.config_.is_object(), "{}/config.json: not a JSON object", dir);
  const fs::path single = fs::path(dir) / "model.safetensors";
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  std::vector<std::string> files;
  if (fs::exists(index)) {
    const json idx = read_json(index.string());
    LLAMBA_ENSURE(idx.contains("weight_map") && idx["weight_map"].is_object(), "{}: missing weight_map",
                  index.string());
    std::map<std::string, size_t> file_ids;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      LLAMBA_ENSURE(it.value().is_string(), "{}: weight_map.{} is not a file name", index.string(), it.key());
      const std::string f = it.value().get<std::string>();
      LLAMBA_ENSURE(f.find('/') == std::string::npos && f.find("..") == std::string::npos,
                    "{}: shard name {} must be a plain file name", index.string(), f);
      if (!file_ids.count(f)) {
        file_ids[f] = c.shards_.size();
        c.shards_.push_back(std::make_shared<SafetensorsFile>(SafetensorsFile::open((fs::path(dir) / f).string())));
      }
      LLAMBA_ENSURE(c.shards_[file_ids[f]]->has(it.key()), "{}: weight_map says {} is in {}, but it is not",
                    index.string(), it.key(), f);
      c.where_[it.key()] = file_ids[f];
    }
  } else {
    LLAMBA_ENSURE(fs::exists(single), "{}: neither model.safetensors nor model.safetensors.index.json found", dir);
    c.shards_.push_back(std::make_shared<SafetensorsFile>(SafetensorsFile::open(single.string())));
    for (const auto& e : c.shards_[0]->entries()) c.where_[e.name] = 0;
  }
  return c;
}

std::vector<std::string> HfCheckpoint::names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : where_) n.push_back(k);
  return n;
}

core::TensorView HfCheckpoint::tensor(const std::string& name) const {
  auto it = where_.find(name);
  LLAMBA_ENSURE(it != where_.end(), "{}: missing tensor {}", dir_, name);
  return shards_[it->second]->tensor(name);
}

std::string HfCheckpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  return it == where_.end() ? dir_ : shards_[it->second]->path();
}

const json* HfCheckpoint::lookup(const std::string& path) const {
  const json* j = &config_;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!j->is_object() || !j->contains(key)) return nullptr;
    j = &(*j)[key];
    if (dot == std::string::npos) return j->is_null() ? nullptr : j;
    start = dot + 1;
  }
}

int64_t HfCheckpoint::config_int(const std::string& path) const {
  const json* j = lookup(path);
  LLAMBA_ENSURE(j != nullptr, "{}/config.json: missing field {}", dir_, path);
  LLAMBA_ENSURE(j->is_number_integer(), "{}/config.json: field {} must be an integer, found {}", dir_, path, j->dump());
  // No config field is near 2^30, and the converters add and multiply them: 2 * d_inner + 2 * groups * state
  // must not overflow.
  constexpr int64_t kMaxInt = int64_t(1) << 30;
  LLAMBA_ENSURE(j->is_number_unsigned() ? j->get<uint64_t>() <= (uint64_t)kMaxInt
                                        : j->get<int64_t>() >= -kMaxInt && j->get<int64_t>() <= kMaxInt,
                "{}/config.json: field {} = {} is outside [-2^30, 2^30]", dir_, path, j->dump());
  return j->get<int64_t>();
}

int64_t HfCheckpoint::config_int(const std::string& path, int64_t def) const {
  return lookup(path) ? config_int(path) : def;
}

double HfCheckpoint::config_float(const std::string& path, double def) const {
  const json* j = lookup(path);
  if (!j) return def;
  LLAMBA_ENSURE(j->is_number(), "{}/config.json: field {} must be a number, found {}", dir_, path, j->dump());
  return j->get<double>();
}

bool HfCheckpoint::config_bool(const std::string& path, bool def) const {
  const json* j = lookup(path);
  if (!j) return def;
  LLAMBA_ENSURE(j->is_boolean(), "{}/config.json: field {} must be true or false, found {}", dir_, path, j->dump());
  return j->get<bool>();
}

std::string HfCheckpoint::config_string(const std::string& path, const std::string& def) const {
  const json* j = lookup(path);
  if (!j) return def;
  LLAMBA_ENSURE(j->is_string(), "{}/config.json: field {} must be a string, found {}", dir_, path, j->dump());
  return j->get<std::string>();
}

}  // namespace llamba::io
