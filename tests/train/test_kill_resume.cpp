// Faults in `llamba train` and `llamba distill` as processes: SIGKILL at random moments (during steps and during
// checkpoint writes), then --resume, until the run finishes; the result equals an uninterrupted run bit for bit,
// every checkpoint seen between kills is complete, and no resume goes back more than one checkpoint interval. A
// full disk (RLIMIT_FSIZE: writes fail with EFBIG, as on a full file system, without needing a mount) gives a
// clear error and leaves the previous checkpoint byte for byte intact; so does a read-only output folder (the run
// drops to the user nobody when the test runs as root, which ignores permissions).
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_util.h"
#include "core/rng.h"
#include "distill/tiny_teacher.h"
#include "io/gguf.h"
#include "train/task_dir.h"

namespace llamba {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Starts `llamba args...` with its output in `log`; `fsize_limit` > 0 caps the bytes any file it writes may reach;
// `unprivileged` runs it as the user nobody when the test runs as root (so that permissions apply to it).
pid_t spawn_llamba(const std::vector<std::string>& args, const std::string& log, rlim_t fsize_limit = 0,
                   bool unprivileged = false) {
  const std::string bin = test::llamba_bin();
  std::fflush(stdout);  // or the child would write the parent's buffered output a second time
  const pid_t pid = fork();
  if (pid != 0) return pid;
  FILE* out = std::freopen(log.c_str(), "a", stdout);
  if (out) dup2(fileno(stdout), 2);
  if (fsize_limit > 0) {
    signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG instead of killing the process
    const rlimit r{fsize_limit, fsize_limit};
    setrlimit(RLIMIT_FSIZE, &r);
  }
  if (unprivileged && geteuid() == 0) {
    constexpr uid_t kNobody = 65534;
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(126);
  }
  std::vector<char*> argv{const_cast<char*>(bin.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(bin.c_str(), argv.data());
  _exit(127);
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::map<std::string, std::vector<uint8_t>> tensor_bytes(const std::string& path) {
  const auto f = io::GgufFile::open(path);
  std::map<std::string, std::vector<uint8_t>> m;
  for (const auto& t : f.tensors()) {
    const core::TensorView v = f.tensor(t);
    m[t.name].assign(v.byte_ptr(0), v.byte_ptr(0) + v.nbytes());
  }
  return m;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Optimizer steps a checkpoint holds in total (distill: stage index and its step, as one number).
int64_t progress_of(const io::GgufFile& f) {
  const int64_t stage = f.has("distill.stage_index") ? f.get_int("distill.stage_index") : 0;
  return stage * 1000000 + f.get_int("train.step");
}

// Kills the run `args` (+ --resume once a checkpoint exists) `kills` times at random moments within `span_s`,
// then lets it finish; returns the number of kills that landed on a running process.
int kill_until_done(const std::vector<std::string>& args, const std::string& out_dir, int kills, double span_s,
                    uint64_t seed) {
  core::Rng rng(seed);
  const std::string ckpt = out_dir + "/checkpoint.gguf", log = out_dir + ".log";
  int64_t last_progress = -1;
  int landed = 0, checkpoints_seen = 0;
  for (int k = 0; k <= kills; ++k) {
    std::vector<std::string> a = args;
    if (fs::exists(ckpt)) a.push_back("--resume");
    const pid_t pid = spawn_llamba(a, log);
    if (k == kills) {
      EXPECT_EQ(wait_exit(pid), 0) << read_file(log);
      break;
    }
    usleep((useconds_t)(1e6 * span_s * (0.1 + 0.9 * rng.uniform())));
    landed += kill(pid, SIGKILL) == 0;
    const int code = wait_exit(pid);
    if (code == 0) continue;  // it finished before the kill: the next call resumes a finished run
    EXPECT_EQ(code, 128 + SIGKILL) << read_file(log);
    if (!fs::exists(ckpt)) continue;
    // Whatever is at the path is a complete checkpoint (parse it, touch every tensor) and never older than the
    // one before: a kill loses at most the steps since the last checkpoint.
    const auto f = io::GgufFile::open(ckpt);
    for (const auto& t : f.tensors()) EXPECT_NE(f.tensor(t).data, nullptr) << t.name;
    const int64_t p = progress_of(f);
    EXPECT_GE(p, last_progress) << "a resumed run went back before its last checkpoint";
    last_progress = p;
    ++checkpoints_seen;
  }
  std::printf("%s: %d kills landed on a running process, %d complete checkpoints seen between them\n",
              out_dir.c_str(), landed, checkpoints_seen);
  return landed;
}

json tiny_train_config(int64_t steps) {
  return {{"arch", "llamba"},
          {"model", {{"d_model", 32}, {"n_layers", 2}, {"ffn", 64}, {"n_heads", 4}, {"d_state", 8}, {"chunk_size", 16}}},
          {"batch", 4},
          {"seq_len", 32},
          {"steps", steps},
          {"lr", 3e-3},
          {"warmup_steps", 3},
          {"eval_interval", 0},
          {"checkpoint_interval", 5},
          {"log_interval", 1}};
}

TEST(KillResume, TrainKilledAnywhereResumesToTheUninterruptedWeights) {
  test::TaskDir task("kill_resume_task", 32);
  const std::string cfg = test::temp_path("kill_resume_train.json").string();
  std::ofstream(cfg) << tiny_train_config(60).dump();
  const std::string straight = test::temp_path("kill_resume_straight").string();
  const std::string killed = test::temp_path("kill_resume_killed").string();
  fs::remove_all(straight), fs::remove_all(killed);
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{"train", "--config", cfg, "--data", task.dir, "-o", out};
  };
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(spawn_llamba(args(straight), straight + ".log")), 0) << read_file(straight + ".log");
  const double span = seconds_since(t0);
  EXPECT_GT(kill_until_done(args(killed), killed, 8, span, 7), 0);
  EXPECT_EQ(tensor_bytes(straight + "/checkpoint.gguf"), tensor_bytes(killed + "/checkpoint.gguf"))
      << "the killed and resumed run ended with other weights or optimizer moments";

  // A full disk while checkpointing: a clear error, and the checkpoint already there is untouched.
  const std::string before = read_file(killed + "/checkpoint.gguf");
  std::ofstream(cfg) << tiny_train_config(70).dump();  // 10 more steps, then a checkpoint that cannot be written
  const std::string log = killed + ".full.log";
  std::vector<std::string> more = args(killed);
  more.push_back("--resume");
  more.push_back("--steps");
  more.push_back("70");
  EXPECT_NE(wait_exit(spawn_llamba(more, log, 64 * 1024)), 0);
  const std::string msg = read_file(log);
  std::printf("full disk: %s\n", msg.substr(msg.rfind("llamba: error")).c_str());
  EXPECT_NE(msg.find("checkpoint.gguf"), std::string::npos) << msg;
  EXPECT_EQ(read_file(killed + "/checkpoint.gguf"), before) << "a failed write damaged the previous checkpoint";
  for (const auto& e : fs::directory_iterator(killed))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << e.path();

  // A read-only output folder: the same, with the error naming the file it could not create.
  fs::permissions(killed, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const std::string ro_log = test::temp_path("kill_resume_readonly.log").string();
  fs::remove(ro_log);
  const int ro_code = wait_exit(spawn_llamba(more, ro_log, 0, true));
  const std::string ro_msg = read_file(ro_log);
  if (ro_code == 126 || ro_code == 127) {  // nobody may not reach the binary where the checkout lives (a 0700 home)
    std::printf("read-only folder: not tested here (the user nobody cannot run %s)\n", test::llamba_bin().c_str());
    fs::permissions(killed, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(straight), fs::remove_all(killed), fs::remove(cfg), fs::remove(ro_log);
    return;
  }
  EXPECT_NE(ro_code, 0);
  ASSERT_NE(ro_msg.find("llamba: error"), std::string::npos) << ro_msg;
  std::printf("read-only folder: %s\n", ro_msg.substr(ro_msg.rfind("llamba: error")).c_str());
  EXPECT_NE(ro_msg.find(killed + "/"), std::string::npos) << ro_msg;
  EXPECT_NE(ro_msg.find("Permission denied"), std::string::npos) << ro_msg;
  EXPECT_EQ(read_file(killed + "/checkpoint.gguf"), before) << "a failed write damaged the previous checkpoint";
  fs::permissions(killed, fs::perms::owner_all, fs::perm_options::add);
  fs::remove_all(straight), fs::remove_all(killed), fs::remove(cfg), fs::remove(ro_log);
}

TEST(KillResume, DistillKilledAnywhereResumesToTheUninterruptedStudent) {
  const std::string data = test::write_tiny_shards("kill_resume_distill_shards");
  json stage = {{"tokens", 12 * 2 * 16}, {"batch", 2}, {"seq_len", 16}, {"warmup_fraction", 0.1}, {"eval_batches", 2}};
  json s1 = stage, s2 = stage, s3 = stage;
  s1["stage"] = 1, s1["lr"] = 1e-2;
  s2["stage"] = 2, s2["lr"] = 3e-3;
  s3["stage"] = 3, s3["lr"] = 3e-3;
  const std::string cfg = test::temp_path("kill_resume_distill.json").string();
  std::ofstream(cfg) << json{{"d_state", 8}, {"chunk_size", 8}, {"seed", 3}, {"checkpoint_interval", 3},
                             {"stages", {s1, s2, s3}}}.dump();
  const std::string straight = test::temp_path("kill_distill_straight").string();
  const std::string killed = test::temp_path("kill_distill_killed").string();
  fs::remove_all(straight), fs::remove_all(killed);
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{"distill", "-q", "--teacher", test::tiny_teacher_path(), "--data", data,
                                    "--config", cfg, "-o", out};
  };
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(spawn_llamba(args(straight), straight + ".log")), 0) << read_file(straight + ".log");
  const double span = seconds_since(t0);
  EXPECT_GT(kill_until_done(args(killed), killed, 8, span, 11), 0);
  EXPECT_EQ(tensor_bytes(straight + "/student.gguf"), tensor_bytes(killed + "/student.gguf"))
      << "the killed and resumed distillation ended with another student";
  fs::remove_all(straight), fs::remove_all(killed), fs::remove(cfg), fs::remove_all(data);
}

}  // namespace
}  // namespace llamba
