// Shared test helpers: fixture paths, tolerance checks with derived bounds, random inputs.
// Tolerance convention (docs/testing.md §"Tolerances"): fp32 |a - r| <= atol + c * eps * sqrt(K) * |r| with K the
// reduction length, and NMSE <= 1e-7; every override at a call site carries a comment naming the error source.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/rng.h"
#include "core/tensor.h"

namespace llamba::test {

// The source tree: LLAMBA_SOURCE_DIR from the environment (a copy of the tree on another machine), else the one
// this binary was built from.
inline std::string source_dir() {
  if (const char* env = std::getenv("LLAMBA_SOURCE_DIR")) return env;
  return LLAMBA_SOURCE_DIR;
}
inline std::string fixture_path(const std::string& rel) { return source_dir() + "/tests/fixtures/" + rel; }

// The default model file (SmolLM2-135M-Instruct) or "" when it is not installed.
inline std::string default_model_path() {
  if (const char* env = std::getenv("LLAMBA_MODEL")) return env;
  const std::string p = source_dir() + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  return std::filesystem::exists(p) ? p : "";
}

// Scratch files live in a folder of this test process, removed when it exits: ctest runs tests in parallel
// processes, so fixed names in the temp folder would collide, and per-process names would pile up.
inline const std::filesystem::path& temp_dir() {
  struct Dir {
    pid_t owner = ::getpid();
    std::filesystem::path path;
    Dir() : path(std::filesystem::temp_directory_path() / ("llamba_test_" + std::to_string(owner))) {
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      if (::getpid() != owner) return;  // a forked child exiting must not delete its parent's files
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}
inline std::filesystem::path temp_path(const std::string& name) { return temp_dir() / name; }

constexpr double kEpsF32 = 1.1920928955078125e-07;

// Result of comparing two arrays: worst element (by the bound's ratio), NMSE, max abs/rel errors.
struct Compare {
  double max_abs = 0, max_ratio = 0, nmse = 0, ref_max = 0;
  int64_t worst = -1;
  bool ok = true;
};

// Checks |a[i] - r[i]| <= atol + rtol * |r[i]| for all i; NaN never passes.
template <class A, class R>
Compare compare(const A* a, const R* r, int64_t n, double atol, double rtol) {
  Compare c;
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double x = (double)a[i], y = (double)r[i];
    const double d = std::fabs(x - y);
    const double bound = atol + rtol * std::fabs(y);
    const double ratio = std::isnan(d) ? INFINITY : d / bound;
    num += (x - y) * (x - y);
    den += y * y;
    c.ref_max = std::max(c.ref_max, std::fabs(y));
    c.max_abs = std::max(c.max_abs, std::isnan(d) ? INFINITY : d);
    if (ratio > c.max_ratio || c.worst < 0) {
      if (ratio > c.max_ratio) c.max_ratio = ratio;
      if (c.worst < 0 || ratio >= c.max_ratio) c.worst = i;
    }
    if (!(d <= bound)) c.ok = false;
  }
  c.nmse = den > 0 ? num / den : num;
  return c;
}

// Max |a - r| / max |r|: the scale-free error used for logits and mode equivalence.
template <class A, class R>
double rel_max_error(const A* a, const R* r, int64_t n) {
  double m = 0, s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::fabs((double)a[i] - (double)r[i]);
    m = std::isnan(d) ? INFINITY : std::max(m, d);
    s = std::max(s, std::fabs((double)r[i]));
  }
  return s > 0 ? m / s : m;
}

inline std::vector<float> randn(core::Rng& rng, int64_t n, double scale = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = (float)(rng.normal() * scale);
  return v;
}

inline std::vector<double> randn64(core::Rng& rng, int64_t n, double scale = 1.0) {
  std::vector<double> v(n);
  for (auto& x : v) x = rng.normal() * scale;
  return v;
}

}  // namespace llamba::test
