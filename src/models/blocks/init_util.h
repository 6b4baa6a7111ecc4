// Helpers for random initialization of trainable models from a JSON config (`llamba train --config`):
// typed config reads whose errors name the field, and seeded tensor fills added to a GgufWriter.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/rng.h"
#include "core/tensor.h"
#include "io/gguf.h"

namespace llamba::models::init {

int64_t cfg_int(const nlohmann::json& j, const std::string& key, int64_t def);
double cfg_float(const nlohmann::json& j, const std::string& key, double def);
bool cfg_bool(const nlohmann::json& j, const std::string& key, bool def);
std::string cfg_string(const nlohmann::json& j, const std::string& key, const std::string& def);
// Rejects keys not in `known` (typos must not silently fall back to defaults).
void check_keys(const nlohmann::json& j, std::initializer_list<const char*> known, const char* what);

// f32 tensors: normal(mean, std), uniform(-a, a), or a constant.
void add_normal(io::GgufWriter& w, core::Rng& rng, const std::string& name, const core::Shape& s, double std,
                double mean = 0.0);
void add_uniform(io::GgufWriter& w, core::Rng& rng, const std::string& name, const core::Shape& s, double a);
void add_const(io::GgufWriter& w, const std::string& name, const core::Shape& s, float v);

}  // namespace llamba::models::init
