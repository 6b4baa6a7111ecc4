// Running the `llamba` binary from tests, as users run it: exit code and stdout + stderr together.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.h"

namespace llamba::test {

struct CliResult {
  int code = -1;    // exit status; 128 + signal when killed
  std::string out;  // stdout + stderr
};

// $LLAMBA_BIN, else the `llamba` next to this test binary (both land in <build>/bin); "" when neither exists.
inline std::string llamba_bin() {
  if (const char* b = std::getenv("LLAMBA_BIN"); b && std::filesystem::exists(b)) return b;
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "llamba";
  return !ec && std::filesystem::exists(p) ? p.string() : "";
}

// Runs `cmd` through the shell with stderr folded into stdout.
inline CliResult run_shell(const std::string& cmd) {
  CliResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Runs `llamba ARGS` with `stdin_text` as its standard input.
inline CliResult run_llamba(const std::string& args, const std::string& stdin_text = "") {
  const std::filesystem::path in = temp_path("llamba_stdin.txt");
  std::ofstream(in, std::ios::binary) << stdin_text;
  std::string cmd = "'";  // appended piecewise: "'" + std::string trips g++ 12's -Wrestrict false positive
  cmd += llamba_bin();
  cmd += "' " + args + " < '" + in.string() + "'";
  CliResult r = run_shell(cmd);
  std::filesystem::remove(in);
  return r;
}

}  // namespace llamba::test
