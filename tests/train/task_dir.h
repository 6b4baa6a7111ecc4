// A synthetic memory-horizon task written to a scratch folder for one test, removed afterwards.
#pragma once

#include <filesystem>
#include <string>

#include "test_util.h"
#include "train/data/tasks.h"

namespace llamba::test {

struct TaskDir {
  std::string dir;
  train::TaskInfo info;
  TaskDir(const std::string& name, int64_t length, int64_t n_train = 400) {
    dir = temp_path(name).string();
    train::TaskConfig c;
    c.length = length;
    c.n_train = n_train;
    c.n_val = 40;
    info = train::write_task(c, dir);
  }
  ~TaskDir() { std::filesystem::remove_all(dir); }
};

}  // namespace llamba::test
