// The fixture of the `llamba eval` CLI tests: the llamba binary and the default model, or a skip saying what is
// missing.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "cli_util.h"

namespace llamba::test {

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
    model_ = test::default_model_path();
    if (model_.empty()) GTEST_SKIP() << "default model not installed: run scripts/setup.sh";
  }
  std::string model_;
  const std::string wiki_ = test::source_dir() + "/data/corpus/wikitext2_test.txt.xz";
};

}  // namespace llamba::test
