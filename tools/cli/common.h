// Helpers shared by CLI subcommands: default model lookup, loading a model with its tokenizer.
#pragma once

#include <memory>
#include <string>

#include "io/gguf.h"
#include "models/model.h"

namespace llamba::cli {

// The default model file name and where scripts/setup.sh puts it.
constexpr const char* kDefaultModel = "SmolLM2-135M-Instruct.Q4_1.gguf";

// `path` if non-empty; else $LLAMBA_MODEL; else models/<default> next to the build or in the working
// directory. Throws llamba::Error saying how to install the default model when none is found.
std::string resolve_model_path(const std::string& path);

struct LoadedModel {
  std::unique_ptr<io::GgufFile> file;
  std::unique_ptr<models::Model> model;
};
LoadedModel load(const std::string& path);

}  // namespace llamba::cli
