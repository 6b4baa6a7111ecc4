// Invariant checks (LLAMBA_CHECK aborts with file:line) and boundary errors (llamba::Error, thrown with
// context naming the file, tensor or field). Invariants are programming errors; boundary errors are bad input.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace llamba::core {

// Bad input at a boundary (files, CLI, HTTP, Python). The message names what was wrong and, where it helps,
// carries a "---> HINT:" line saying what to do.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void check_failed(const char* file, int line, const char* cond, const std::string& msg = {});

// Re-throws `e` with `prefix` prepended, e.g. "model.gguf: tensor blk.0.attn_q: ".
[[noreturn]] void rethrow_with_context(const std::string& prefix, const std::exception& e);

}  // namespace llamba::core

namespace llamba {
using core::Error;
}

#define LLAMBA_CHECK(cond, ...)                                                           \
  do {                                                                                    \
    if (!(cond)) [[unlikely]]                                                             \
      ::llamba::core::check_failed(__FILE__, __LINE__, #cond __VA_OPT__(, fmt::format(__VA_ARGS__))); \
  } while (0)

#if !defined(NDEBUG) || defined(LLAMBA_SANITIZED)
#define LLAMBA_DCHECK(cond, ...) LLAMBA_CHECK(cond __VA_OPT__(, __VA_ARGS__))
#else
#define LLAMBA_DCHECK(cond, ...) \
  do {                           \
  } while (0)
#endif

#define LLAMBA_THROW(...) throw ::llamba::core::Error(fmt::format(__VA_ARGS__))

// Boundary validation: throws llamba::Error (never aborts) when `cond` is false.
#define LLAMBA_ENSURE(cond, ...)         \
  do {                                   \
    if (!(cond)) [[unlikely]]            \
      LLAMBA_THROW(__VA_ARGS__);         \
  } while (0)
