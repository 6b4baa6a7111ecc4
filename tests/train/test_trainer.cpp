// The training loop: a resumed run equals an uninterrupted one bit for bit; a writer killed with SIGKILL at any
// moment never leaves a broken checkpoint; tiny llamba and mamba2 models learn the memory-horizon task; bad configs
// are named.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "io/gguf.h"
#include "test_util.h"
#include "train/task_dir.h"
#include "train/trainer.h"

namespace llamba {
namespace {

namespace fs = std::filesystem;

using test::TaskDir;

train::TrainConfig tiny_config(int64_t steps, int32_t query, const std::string& arch = "llamba") {
  const nlohmann::json model =
      arch == "mamba2"
          ? nlohmann::json{{"d_model", 32}, {"n_layers", 2}, {"head_dim", 16}, {"d_state", 8}, {"chunk_size", 16}}
          : nlohmann::json{{"d_model", 32}, {"n_layers", 2}, {"ffn", 64}, {"n_heads", 4}, {"d_state", 8},
                           {"chunk_size", 16}};
  return train::TrainConfig::from_json({{"arch", arch},
                                        {"model", model},
                                        {"batch", 4},
                                        {"seq_len", 32},
                                        {"grad_accum", 2},
                                        {"steps", steps},
                                        {"lr", 3e-3},
                                        {"warmup_steps", 3},
                                        {"eval_interval", 0},
                                        {"loss_after_token", query}});
}

std::vector<float> all_params(const train::Trainer& t) {
  std::vector<float> v;
  for (const auto& p : t.params().params()) v.insert(v.end(), p.value.f32(), p.value.f32() + p.value.numel());
  return v;
}

class TrainerResume : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainerResume, ResumeEqualsUninterrupted) {
  const std::string arch = GetParam();
  TaskDir task(arch + "_resume_task", 32);
  const auto data = train::open_shard_dir(task.dir);
  const auto cfg = tiny_config(9, task.info.query_id, arch);
  ops::Context ctx(2);
  train::Trainer straight(ctx, cfg, data);
  for (int i = 0; i < 9; ++i) straight.step();

  const std::string ckpt = test::temp_path(arch + "_resume.gguf").string();
  {
    train::Trainer first(ctx, cfg, data);
    for (int i = 0; i < 4; ++i) first.step();
    first.save(ckpt);
  }
  train::Trainer resumed(ctx, cfg, data, ckpt);
  EXPECT_EQ(resumed.steps_done(), 4);
  while (resumed.steps_done() < 9) resumed.step();
  const auto a = all_params(straight), b = all_params(resumed);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "resumed weights differ";
  // The checkpoint is also a runnable model file.
  const auto f = io::GgufFile::open(ckpt);
  EXPECT_EQ(f.get_string("general.architecture"), arch);
  EXPECT_EQ(f.get_int("train.step"), 4);
  if (arch == "mamba2") {
    EXPECT_TRUE(f.find_tensor("blk.0.ssm_a_log") && !f.find_tensor("blk.0.ssm_a"));
  }
  fs::remove(ckpt);
}

// mamba2 checkpoints hold the decay rate in its training form, ssm_a_log.
INSTANTIATE_TEST_SUITE_P(Archs, TrainerResume, ::testing::Values("llamba", "mamba2"));

TEST(Trainer, KilledWriterNeverLeavesABrokenCheckpoint) {
  TaskDir task("llamba_kill_task", 32);
  const auto data = train::open_shard_dir(task.dir);
  const auto cfg = tiny_config(1, task.info.query_id);
  const std::string ckpt = test::temp_path("llamba_kill.gguf").string();
  fs::remove(ckpt);
  core::Rng rng(3);
  int checked = 0;
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // child: save checkpoints as fast as it can until killed
      ops::Context ctx(1);
      train::Trainer t(ctx, cfg, data);
      for (;;) t.save(ckpt);
    }
    usleep((useconds_t)(20000 + rng.below(80000)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!fs::exists(ckpt)) continue;
    // Whatever is at the path must be complete: parse it and read every tensor.
    const auto f = io::GgufFile::open(ckpt);
    for (const auto& t : f.tensors()) ASSERT_NE(f.tensor(t).data, nullptr);
    EXPECT_TRUE(f.has("train.step"));
    ++checked;
  }
  EXPECT_GT(checked, 0);
  const std::string leftover = fs::path(ckpt).filename().string() + ".tmp.";
  for (const auto& e : fs::directory_iterator(test::temp_dir()))
    if (e.path().filename().string().rfind(leftover, 0) == 0) fs::remove(e.path());
  fs::remove(ckpt);
}

TEST(Trainer, LearnsTheMemoryHorizonTask) {
  TaskDir task("llamba_learn_task", 32);
  const auto data = train::open_shard_dir(task.dir);
  auto cfg = tiny_config(200, task.info.query_id);
  cfg.model["d_model"] = 64;
  cfg.model["ffn"] = 128;
  cfg.batch = 8;
  cfg.grad_accum = 1;
  cfg.schedule.min_lr = 3e-4;
  cfg.eval_batches = 100;  // all 40 held-out episodes
  ops::Context ctx(2);
  train::Trainer t(ctx, cfg, data);
  const auto before = t.evaluate();
  for (int i = 0; i < 200; ++i) t.step();
  const auto after = t.evaluate();
  // Chance is 1/16 per answer; the loss starts near log(18) ≈ 2.9.
  // Measured with this seed: 2.9 -> 0.88, accuracy 0.91 (the task is learned abruptly after ~120 steps).
  EXPECT_LT(after.loss, 0.6 * before.loss) << "before " << before.loss << " after " << after.loss;
  EXPECT_GT(after.accuracy, 0.5);
  // The per-horizon evaluation (fresh state per episode, the same held-out answers) agrees.
  const auto by_horizon = train::evaluate_task(ctx, t.model(), task.dir);
  EXPECT_EQ(by_horizon.all_total, after.n);
  EXPECT_NEAR((double)by_horizon.all_correct / (double)by_horizon.all_total, after.accuracy, 0.02);
}

TEST(Trainer, Mamba2LearnsTheMemoryHorizonTask) {
  TaskDir task("mamba2_learn_task", 32);
  const auto data = train::open_shard_dir(task.dir);
  auto cfg = tiny_config(300, task.info.query_id, "mamba2");
  cfg.model["d_model"] = 64;  // expand 2: d_inner 128, 8 heads of 16
  cfg.batch = 8;
  cfg.grad_accum = 1;
  cfg.schedule.min_lr = 3e-4;
  cfg.eval_batches = 4;
  ops::Context ctx(2);
  train::Trainer t(ctx, cfg, data);
  const auto before = t.evaluate();
  for (int i = 0; i < 300; ++i) t.step();
  const auto after = t.evaluate();
  // The llamba test's task and settings, 300 steps (chance 1/16, loss starts near log(18) ≈ 2.9). Measured with
  // this seed: 2.98 -> 0.32, accuracy 0.92 (after 200 steps it is still learning: 1.37, 0.67).
  EXPECT_LT(after.loss, 0.6 * before.loss) << "before " << before.loss << " after " << after.loss;
  EXPECT_GT(after.accuracy, 0.5);
  std::printf("mamba2 memory horizon: loss %.3f -> %.3f, accuracy %.3f -> %.3f\n", before.loss, after.loss,
              before.accuracy, after.accuracy);
}

TEST(Trainer, BadConfigFieldsAreNamed) {
  auto err = [](const nlohmann::json& j) {
    try {
      train::TrainConfig::from_json(j);
      return std::string();
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  EXPECT_NE(err({{"arch", "llamba"}, {"stpes", 3}}).find("unknown key \"stpes\""), std::string::npos);
  EXPECT_NE(err({{"arch", "rwkv"}}).find("\"rwkv\""), std::string::npos);
  EXPECT_NE(err({{"arch", "llamba"}, {"batch", "x"}}).find("\"batch\""), std::string::npos);
  EXPECT_NE(err({{"arch", "llamba"}, {"schedule", "linear"}}).find("\"linear\""), std::string::npos);
  EXPECT_NE(err({{"arch", "llamba"}, {"batch", 0}}).find("batch >= 1"), std::string::npos);
}

}  // namespace
}  // namespace llamba
