// The architecture names of models/registry.cpp for the fuzz build, which does not compile the models (the
// registry's factories pull in every model and op). train::TrainConfig::from_json needs only the names.
// The static_assert stops the fuzz build when an architecture is added, so the list cannot drift silently.
#include <array>
#include <string_view>

#include "models/model.h"

namespace llamba::models {

namespace {
constexpr std::array<std::string_view, 4> kNames = {"llama", "llamba", "mamba2", "gateloop"};  // Arch order
static_assert(kNames.size() == kArchCount, "models/registry.cpp has a new architecture: add its name here");
}  // namespace

std::string_view arch_name(Arch a) { return kNames[(size_t)a]; }

std::optional<Arch> arch_from_name(std::string_view s) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == s) return (Arch)i;
  return std::nullopt;
}

}  // namespace llamba::models
