// A model file and what it needs to run: the default model's name and lookup, and a loaded GGUF kept alive
// beside the model that references its mapped bytes. Shared by the CLI and the Python bindings.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "models/model.h"

namespace llamba::runtime {

// The default model file name and where scripts/setup.sh puts it (models/ in the repository).
constexpr const char* kDefaultModel = "SmolLM2-135M-Instruct.Q4_1.gguf";

// `path` if non-empty; else $LLAMBA_MODEL; else models/<default> in the working directory, in each of
// `repo_dirs` or next to the running executable's build folder (<repo>/build/bin). Throws llamba::Error saying
// how to install the default model when none is found.
std::string resolve_model_path(const std::string& path, const std::vector<std::string>& repo_dirs = {});

struct LoadedModel {
  std::unique_ptr<io::GgufFile> file;
  std::unique_ptr<models::Model> model;
};
// Opens and loads `path`; throws llamba::Error naming the file, key or tensor.
LoadedModel load(const std::string& path);

}  // namespace llamba::runtime
