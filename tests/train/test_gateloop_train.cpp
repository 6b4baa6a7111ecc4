// GateLoop through the trainer: a tiny model with complex data-controlled gates (magphase) learns the
// memory-horizon task; a resumed run equals an uninterrupted one bit for bit; the checkpoint runs as a model.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "io/gguf.h"
#include "models/model.h"
#include "test_util.h"
#include "train/task_dir.h"
#include "train/trainer.h"

namespace llamba {
namespace {

namespace fs = std::filesystem;

using test::TaskDir;

train::TrainConfig config(const nlohmann::json& model, int64_t seq_len, int64_t steps, int32_t query) {
  return train::TrainConfig::from_json({{"arch", "gateloop"},
                                        {"model", model},
                                        {"batch", 8},
                                        {"seq_len", seq_len},
                                        {"steps", steps},
                                        {"lr", 3e-3},
                                        {"min_lr", 3e-4},
                                        {"warmup_steps", 10},
                                        {"eval_interval", 0},
                                        {"eval_batches", 4},
                                        {"loss_after_token", query}});
}

TEST(GateLoopTrainer, LearnsTheMemoryHorizonTask) {
  TaskDir task("gateloop_learn_task", 64, 1000);
  const auto data = train::open_shard_dir(task.dir);
  const auto cfg = config({{"d_model", 64}, {"n_layers", 2}, {"ffn", 128}, {"n_heads", 8},
                           {"transition", "magphase"}, {"chunk_size", 32}},
                          64, 250, task.info.query_id);
  ops::Context ctx(2);
  train::Trainer t(ctx, cfg, data);
  const auto before = t.evaluate();
  for (int i = 0; i < 250; ++i) t.step();
  const auto after = t.evaluate();
  std::printf("gateloop magphase memory horizon (length 64): loss %.3f -> %.3f, accuracy %.3f -> %.3f\n", before.loss,
              after.loss, before.accuracy, after.accuracy);
  // Chance is 1/16 per answer; the loss starts near log(18) ≈ 2.9. The same settings with the CLI's data
  // (4000 episodes) reached accuracy 0.73-0.97 over seeds 1-3 after 250 steps; this test measured 2.97 -> 0.23,
  // accuracy 0.99 (~5 s on 2 cores).
  EXPECT_LT(after.loss, 0.6 * before.loss) << "before " << before.loss << " after " << after.loss;
  EXPECT_GT(after.accuracy, 0.5);
}

TEST(GateLoopTrainer, ResumeEqualsUninterrupted) {
  TaskDir task("gateloop_resume_task", 32, 200);
  const auto data = train::open_shard_dir(task.dir);
  auto cfg = config({{"d_model", 32}, {"n_layers", 2}, {"ffn", 48}, {"n_heads", 4}, {"transition", "polar"},
                     {"gate_kind", "vector"}, {"sub_norm", true}, {"chunk_size", 8}, {"transition_grad_scale", 0.9}},
                    32, 7, task.info.query_id);
  cfg.batch = 2;
  cfg.grad_accum = 2;
  ops::Context ctx(2);
  auto params_of = [](const train::Trainer& t) {
    std::vector<float> v;
    for (const auto& p : t.params().params()) v.insert(v.end(), p.value.f32(), p.value.f32() + p.value.numel());
    return v;
  };
  train::Trainer straight(ctx, cfg, data);
  for (int i = 0; i < 7; ++i) straight.step();
  const std::string ckpt = test::temp_path("gateloop_resume.gguf").string();
  {
    train::Trainer first(ctx, cfg, data);
    for (int i = 0; i < 3; ++i) first.step();
    first.save(ckpt);
  }
  train::Trainer resumed(ctx, cfg, data, ckpt);
  while (resumed.steps_done() < 7) resumed.step();
  const auto a = params_of(straight), b = params_of(resumed);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "resumed weights differ";
  // The checkpoint is a runnable gateloop model that keeps the config, transition_grad_scale included.
  const auto f = io::GgufFile::open(ckpt);
  EXPECT_EQ(f.get_string("general.architecture"), "gateloop");
  EXPECT_EQ(f.get_string("gateloop.gate_kind"), "vector");
  EXPECT_NEAR(f.get_float("gateloop.transition_grad_scale"), 0.9, 1e-7);
  auto model = models::load_model(f);
  auto state = model->new_state();
  std::vector<float> logits(model->info().n_vocab);
  std::vector<int32_t> prompt = {task.info.reset_id, 3, 5, task.info.query_id};
  std::vector<models::SequenceState*> states = {state.get()};
  model->forward(ctx, prompt, 1, states, core::view_f32(logits, {1, model->info().n_vocab}));
  for (float x : logits) ASSERT_TRUE(std::isfinite(x));
  fs::remove(ckpt);
}

}  // namespace
}  // namespace llamba
