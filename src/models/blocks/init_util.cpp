// Init helpers.
#include "models/blocks/init_util.h"

#include <vector>

namespace llamba::models::init {

int64_t cfg_int(const nlohmann::json& j, const std::string& key, int64_t def) {
  if (!j.contains(key)) return def;
  LLAMBA_ENSURE(j[key].is_number_integer(), "model config: \"{}\" must be an integer, got {}", key, j[key].dump());
  return j[key].get<int64_t>();
}

double cfg_float(const nlohmann::json& j, const std::string& key, double def) {
  if (!j.contains(key)) return def;
  LLAMBA_ENSURE(j[key].is_number(), "model config: \"{}\" must be a number, got {}", key, j[key].dump());
  return j[key].get<double>();
}

bool cfg_bool(const nlohmann::json& j, const std::string& key, bool def) {
  if (!j.contains(key)) return def;
  LLAMBA_ENSURE(j[key].is_boolean(), "model config: \"{}\" must be true or false, got {}", key, j[key].dump());
  return j[key].get<bool>();
}

std::string cfg_string(const nlohmann::json& j, const std::string& key, const std::string& def) {
  if (!j.contains(key)) return def;
  LLAMBA_ENSURE(j[key].is_string(), "model config: \"{}\" must be a string, got {}", key, j[key].dump());
  return j[key].get<std::string>();
}

void check_keys(const nlohmann::json& j, std::initializer_list<const char*> known, const char* what) {
  LLAMBA_ENSURE(j.is_object(), "{} config must be a JSON object", what);
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    std::string list;
    for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    LLAMBA_ENSURE(ok, "{} config: unknown key \"{}\" (known: {})", what, it.key(), list);
  }
}

void add_normal(io::GgufWriter& w, core::Rng& rng, const std::string& name, const core::Shape& s, double std,
                double mean) {
  std::vector<float> v(s.numel());
  for (auto& x : v) x = (float)(mean + std * rng.normal());
  w.add_tensor(name, core::Tensor::from_f32(s, v));
}

void add_uniform(io::GgufWriter& w, core::Rng& rng, const std::string& name, const core::Shape& s, double a) {
  std::vector<float> v(s.numel());
  for (auto& x : v) x = (float)rng.uniform(-a, a);
  w.add_tensor(name, core::Tensor::from_f32(s, v));
}

void add_const(io::GgufWriter& w, const std::string& name, const core::Shape& s, float v) {
  w.add_tensor(name, core::Tensor::from_f32(s, std::vector<float>(s.numel(), v)));
}

}  // namespace llamba::models::init
