// GateLoop through the `llamba` binary users run ($LLAMBA_BIN, set by ctest): `llamba convert` of a lucidrains
// fixture checkpoint, then `llamba info` loads it through the registry.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace llamba {
namespace {

std::string bin() {
  const char* b = std::getenv("LLAMBA_BIN");
  return b ? b : test::source_dir() + "/build/bin/llamba";
}

struct CliResult {
  int code;
  std::string out;
};

CliResult run_cli(const std::string& args) {
  std::string cmd = "'";  // appended piecewise: "'" + std::string trips g++ 12's -Wrestrict false positive
  cmd += bin();
  cmd += "' ";
  cmd += args;
  cmd += " 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

TEST(GateLoopCli, ConvertThenInfo) {
  if (!std::filesystem::exists(bin())) GTEST_SKIP() << "llamba binary not built";
  const std::string out = (std::filesystem::temp_directory_path() / "gateloop_cli_heads4.gguf").string();
  const CliResult conv = run_cli("convert '" + test::fixture_path("gateloop/heads4") + "' -o '" + out + "'");
  ASSERT_EQ(conv.code, 0) << conv.out;
  const CliResult info = run_cli("info '" + out + "' --metadata");
  ASSERT_EQ(info.code, 0) << info.out;
  EXPECT_NE(info.out.find("architecture:  gateloop"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("gateloop.transition"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("constant in context"), std::string::npos) << info.out;
  const CliResult q8 =
      run_cli("convert '" + test::fixture_path("gateloop/heads4") + "' --outtype q8_0 -o '" + out + "'");
  ASSERT_EQ(q8.code, 0) << q8.out;
  EXPECT_EQ(run_cli("info '" + out + "'").code, 0);
}

}  // namespace
}  // namespace llamba
