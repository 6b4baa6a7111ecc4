// Helpers shared by CLI subcommands: default model lookup, loading a model with its tokenizer (runtime/).
#pragma once

#include "runtime/model_file.h"

namespace llamba::cli {

using runtime::kDefaultModel;
using runtime::load;
using runtime::LoadedModel;
using runtime::resolve_model_path;

}  // namespace llamba::cli
