// Failure reporting for LLAMBA_CHECK and error context helpers.
#include "core/check.h"

#include <cstdio>
#include <cstdlib>

namespace llamba::core {

void check_failed(const char* file, int line, const char* cond, const std::string& msg) {
  std::fprintf(stderr, "llamba: internal check failed at %s:%d: %s%s%s\n", file, line, cond,
               msg.empty() ? "" : ": ", msg.c_str());
  std::fflush(stderr);
  std::abort();
}

void rethrow_with_context(const std::string& prefix, const std::exception& e) {
  throw Error(prefix + e.what());
}

}  // namespace llamba::core
