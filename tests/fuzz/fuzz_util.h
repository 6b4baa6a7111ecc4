// Pieces shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.cpp): the rule for exceptions, exact-size input
// buffers that AddressSanitizer watches to the last byte, per-process scratch files for path-only APIs, and
// input splitting. Not part of the engine; built only by tests/fuzz/CMakeLists.txt.
// Thread safety: the harnesses are single-threaded (libFuzzer runs one input at a time per process).
#pragma once

#include <sanitizer/asan_interface.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/buffer.h"
#include "core/check.h"

namespace llamba::fuzz {

// Stops the run with a message; libFuzzer reports the abort as a crash and keeps the input.
[[noreturn]] inline void fail(const std::string& what) {
  std::string shown;  // control bytes and NULs escaped, so the message survives the terminal
  for (const char c : what) {
    if ((unsigned char)c < 0x20 && c != '\n') shown += fmt::format("\\x{:02x}", (unsigned char)c);
    else shown += c;
  }
  std::fprintf(stderr, "\n[fuzz] FINDING: %s\n", shown.c_str());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_ASSERT(cond, ...)                                                                      \
  do {                                                                                              \
    if (!(cond)) ::llamba::fuzz::fail(fmt::format("{}:{}: {}: ", __FILE__, __LINE__, #cond) +      \
                                      fmt::format(__VA_ARGS__));                                    \
  } while (0)

// Runs `fn` on one input (LLAMBA_FUZZ_VERBOSE=1 prints each error it catches). Bad input must end in llamba::Error (whose message names `must_name` when that is
// not empty: the file or source the API promises to name); any other exception escaping is a finding, and so
// is an empty message. Returns true when `fn` finished without an error.
template <class Fn>
bool expect_clean(Fn&& fn, std::string_view must_name = {}) {
  try {
    fn();
    return true;
  } catch (const core::Error& e) {
    const std::string_view msg = e.what();  // what() ends at a NUL byte, so compare only the name before one
    if (msg.empty()) fail("llamba::Error with an empty message");
    static const bool verbose = std::getenv("LLAMBA_FUZZ_VERBOSE") != nullptr;  // seed debugging
    if (verbose) std::fprintf(stderr, "[fuzz] error: %s\n", e.what());
    must_name = must_name.substr(0, must_name.find('\0'));
    if (!must_name.empty() && msg.find(must_name) == std::string_view::npos)
      fail(fmt::format("llamba::Error does not name '{}': {}", must_name, msg));
    return false;
  } catch (const std::exception& e) {
    fail(fmt::format("an exception other than llamba::Error escaped: {}", e.what()));
  }
}

// The input in an owned core::Buffer of exactly `n` bytes: Buffer::allocate rounds to 64 bytes, so the tail
// is poisoned and any read past the end is reported by AddressSanitizer.
inline std::shared_ptr<core::Buffer> exact_buffer(const uint8_t* data, size_t n) {
  auto b = core::Buffer::allocate(n);
  if (n > 0) std::memcpy(b->data(), data, n);
  const size_t rounded = (n + 63) / 64 * 64;
  if (rounded > n) ASAN_POISON_MEMORY_REGION(b->data() + n, rounded - n);
  return b;
}

// A scratch folder private to this process, removed at exit; for APIs that only take paths.
inline const std::filesystem::path& scratch_dir() {
  static std::filesystem::path dir;
  if (dir.empty()) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/llamba-fuzz-XXXXXX";
    if (!mkdtemp(tmpl.data())) fail("mkdtemp failed for " + tmpl);
    dir = tmpl;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
  }
  return dir;
}

inline std::string write_scratch(const std::string& name, std::string_view bytes) {
  const std::string path = (scratch_dir() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), (std::streamsize)bytes.size());
  if (!out) fail("cannot write " + path);
  return path;
}

// Splits the input at NUL bytes (text formats never contain one): part 0, part 1, ...
inline std::vector<std::string_view> split_nul(std::string_view s, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t z = s.find('\0');
    if (z == std::string_view::npos) break;
    parts.push_back(s.substr(0, z));
    s.remove_prefix(z + 1);
  }
  parts.push_back(s);
  return parts;
}

// A repository file (fixtures, vocabularies), located from the source folder the build was configured in.
inline std::string repo_file(const std::string& rel) { return std::string(LLAMBA_SOURCE_DIR) + "/" + rel; }

}  // namespace llamba::fuzz
