// `llamba distill` end to end on the tiny fixture teacher: every stage lowers its loss and trains only its set,
// the run's files are there and the student runs; a run stopped mid-stage and resumed (also across a stage
// boundary) equals an uninterrupted one bit for bit; bad input is refused with a message naming the culprit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "cli_util.h"
#include "distill/run.h"
#include "distill/student_init.h"
#include "distill/teacher.h"
#include "tiny_teacher.h"

namespace llamba {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Three short stages of 16-token rows: stages 1-2 `steps` steps of batch 2, stage 3 `stage3_steps` of batch 4 (its
// KL falls slowly: 200 steps take it down by a third here); tiny-model learning rates.
json tiny_config(int64_t steps, int64_t stage3_steps) {
  const int64_t tokens = steps * 2 * 16;
  json stage = {{"tokens", tokens}, {"batch", 2}, {"seq_len", 16}, {"warmup_fraction", 0.1}, {"eval_batches", 2}};
  json s1 = stage, s2 = stage, s3 = stage;
  s1["stage"] = 1, s1["lr"] = 1e-2;
  s2["stage"] = 2, s2["lr"] = 3e-3, s2["freeze_mlp"] = true;
  s3["stage"] = 3, s3["lr"] = 3e-3, s3["batch"] = 4, s3["tokens"] = 4 * stage3_steps * 16;
  return {{"d_state", 8}, {"chunk_size", 8}, {"seed", 3}, {"checkpoint_interval", 4}, {"stages", {s1, s2, s3}}};
}

distill::DistillOptions options(const std::string& data, const std::string& out) {
  distill::DistillOptions o;
  o.teacher = test::tiny_teacher_path();
  o.data = data;
  o.out_dir = test::temp_path(out).string();
  o.progress_bar = false;
  return o;
}

// Every tensor of a GGUF file, by name.
std::map<std::string, std::vector<float>> tensors_of(const std::string& path) {
  const auto f = io::GgufFile::open(path);
  std::map<std::string, std::vector<float>> m;
  for (const auto& t : f.tensors()) {
    const core::TensorView v = f.tensor(t);
    m[t.name].assign(v.f32(), v.f32() + v.numel());
  }
  return m;
}

// Mean KL(teacher ‖ student) per position over the first 4 × 16 tokens of the tiny shards' held-out split.
double kl_to_teacher(ops::Context& ctx, const std::string& student_path) {
  const int64_t B = 4, T = 16, V = 96;
  const auto data = train::open_shard_dir(test::temp_path("distill_run_shards").string());
  std::vector<int32_t> in;
  for (int64_t i = 0; i < B * T; ++i) in.push_back(data.val[0][i]);
  auto logits = [&](const std::string& path) {
    const auto file = io::GgufFile::open(path);
    const auto model = models::load_model(file);
    models::FreshStates fresh(*model, B);
    core::Tensor out = core::Tensor::zeros(core::DType::kF32, {B, T, V});
    models::ForwardOptions o;
    o.all_logits = true;
    model->forward(ctx, in, B, fresh.ptrs, out.view(), o);
    return out;
  };
  const core::Tensor p = logits(test::tiny_teacher_path()), q = logits(student_path);
  double kl = 0;
  for (int64_t m = 0; m < B * T; ++m) {
    const float *a = p.f32() + m * V, *b = q.f32() + m * V;
    double ma = a[0], mb = b[0], sa = 0, sb = 0;
    for (int64_t v = 0; v < V; ++v) ma = std::max(ma, (double)a[v]), mb = std::max(mb, (double)b[v]);
    for (int64_t v = 0; v < V; ++v) sa += std::exp(a[v] - ma), sb += std::exp(b[v] - mb);
    for (int64_t v = 0; v < V; ++v) {
      const double lp = a[v] - ma - std::log(sa), lq = b[v] - mb - std::log(sb);
      kl += std::exp(lp) * (lp - lq);
    }
  }
  return kl / (B * T);
}

TEST(DistillRun, EveryStageLowersItsLossAndTrainsOnlyItsSet) {
  const std::string data = test::write_tiny_shards("distill_run_shards");
  ops::Context ctx(2);
  const auto opts = options(data, "distill_run");
  const auto report = distill::run_distill(ctx, distill::DistillConfig::from_json(tiny_config(40, 200)), opts);
  ASSERT_TRUE(report.finished);
  ASSERT_EQ(report.stages.size(), 3u);
  for (const auto& s : report.stages) {
    std::printf("stage %d: loss %.4f -> %.4f, held-out LM loss %.4f, %.0f tok/s\n", s.stage, s.first_loss, s.last_loss,
                s.held_out.loss, s.tokens / s.seconds);
    EXPECT_EQ(s.steps, s.stage < 3 ? 40 : 200);
    // 40 AdamW steps on an alignment loss that starts far from its zero minimum: at least a fifth of it goes.
    // (Stage 3's soft cross-entropy has the teacher's entropy as its floor: checked as a KL below.)
    if (s.stage < 3) {
      EXPECT_LT(s.last_loss, 0.8 * s.first_loss) << "stage " << s.stage;
    }
    if (s.stage < 3) {
      EXPECT_EQ(s.layer_losses.size(), 2u);
    }
  }
  for (const char* f : {"log.csv", "checkpoint.gguf", "stage1.gguf", "stage2.gguf", "stage3.gguf", "student.gguf",
                        "loss_stage1.png", "loss_stage2.png", "loss_stage3.png"})
    EXPECT_TRUE(fs::exists(fs::path(opts.out_dir) / f)) << f;
  std::ifstream log(fs::path(opts.out_dir) / "log.csv");
  std::string header, line;
  std::getline(log, header);
  EXPECT_EQ(header.rfind("stage,step,", 0), 0u) << header;
  int rows = 0;
  while (std::getline(log, line)) ++rows;
  EXPECT_EQ(rows, 280);

  // What each stage may change (docs/distillation.md): stage 1 the mixer parameters its matrix reads, stage 2 the
  // blocks without their (frozen) MLPs, stage 3 everything. The student starts with the teacher's MLPs.
  const auto teacher = tensors_of(opts.teacher), s1 = tensors_of(opts.out_dir + "/stage1.gguf");
  const auto s2 = tensors_of(opts.out_dir + "/stage2.gguf"), s3 = tensors_of(opts.out_dir + "/stage3.gguf");
  for (const char* n : {"token_embd.weight", "output_norm.weight", "blk.0.ffn_up.weight", "blk.1.ffn_down.weight"}) {
    EXPECT_EQ(s1.at(n), teacher.at(n)) << n << " changed in stage 1";
    EXPECT_EQ(s2.at(n), teacher.at(n)) << n << " changed in stage 2 (frozen MLPs; embedding outside the layers)";
    EXPECT_NE(s3.at(n), s2.at(n)) << n << " did not train in stage 3";
  }
  const auto t = distill::load_teacher(opts.teacher);
  const auto init = distill::make_student(t, {distill::StudentInit::kMohawk, 8, 8, 3});
  auto init_tensor = [&](const char* n) {
    const core::TensorView v = init.file->tensor(n);
    return std::vector<float>(v.f32(), v.f32() + v.numel());
  };
  EXPECT_EQ(s1.at("blk.0.ssm_out.weight"), init_tensor("blk.0.ssm_out.weight")) << "out_proj is outside stage 1";
  EXPECT_NE(s1.at("blk.0.ssm_in.weight"), init_tensor("blk.0.ssm_in.weight")) << "in_proj did not train in stage 1";
  EXPECT_NE(s2.at("blk.0.ssm_out.weight"), s1.at("blk.0.ssm_out.weight")) << "out_proj did not train in stage 2";

  // Stage 3 brings the student's next-token distribution closer to the teacher's on held-out text.
  const double kl2 = kl_to_teacher(ctx, opts.out_dir + "/stage2.gguf"),
               kl3 = kl_to_teacher(ctx, opts.out_dir + "/stage3.gguf");
  std::printf("held-out KL(teacher || student): after stage 2 %.4f, after stage 3 %.4f\n", kl2, kl3);
  EXPECT_LT(kl3, 0.8 * kl2);

  // The student is a plain Llamba inference file: it loads (no training keys) and runs.
  const auto file = io::GgufFile::open(opts.out_dir + "/student.gguf");
  EXPECT_FALSE(file.has("train.step") || file.has("opt.step") || file.has("distill.config"));
  const auto model = models::load_model(file);
  models::FreshStates fresh(*model, 1);
  const std::vector<int32_t> prompt = {1, 2, 3, 4};
  core::Tensor logits = core::Tensor::zeros(core::DType::kF32, {1, 96});
  model->forward(ctx, prompt, 1, fresh.ptrs, logits.view(), {});
  for (int64_t v = 0; v < 96; ++v) ASSERT_TRUE(std::isfinite(logits.f32()[v]));
}

TEST(DistillRun, ResumedAcrossStopsEqualsUninterrupted) {
  const std::string data = test::write_tiny_shards("distill_resume_shards");
  const auto cfg = distill::DistillConfig::from_json(tiny_config(6, 6));
  ops::Context ctx(2);
  const auto straight = options(data, "distill_straight");
  distill::run_distill(ctx, cfg, straight);

  auto parts = options(data, "distill_parts");
  parts.max_steps = 3;  // stops inside stage 1 (between checkpoints at 2 and 4: the stop writes its own)
  EXPECT_FALSE(distill::run_distill(ctx, cfg, parts).finished);
  parts.resume = true;
  parts.max_steps = 5;  // the rest of stage 1, then 2 steps into stage 2
  EXPECT_FALSE(distill::run_distill(ctx, cfg, parts).finished);
  parts.max_steps = 7;  // stage 2 ends exactly: the next call starts stage 3 from stage 2's file
  EXPECT_FALSE(distill::run_distill(ctx, cfg, parts).finished);
  parts.max_steps = -1;
  const auto last = distill::run_distill(ctx, distill::DistillConfig{}, parts);  // config comes from the checkpoint
  EXPECT_TRUE(last.finished);
  ASSERT_EQ(last.stages.size(), 1u);
  EXPECT_EQ(last.stages[0].stage, 3);

  const auto a = tensors_of(straight.out_dir + "/student.gguf"), b = tensors_of(parts.out_dir + "/student.gguf");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, values] : a) EXPECT_EQ(values, b.at(name)) << name << " differs after resuming";
  // The log has every step once, with the same losses (tokens/s aside).
  auto losses = [](const std::string& dir) {
    std::ifstream in(dir + "/log.csv");
    std::string line;
    std::vector<std::string> rows;
    std::getline(in, line);
    while (std::getline(in, line)) {
      size_t c = 0;
      for (int k = 0; k < 5; ++k) c = line.find(',', c) + 1;  // stage,step,tokens,lr,loss
      rows.push_back(line.substr(0, c));
    }
    return rows;
  };
  EXPECT_EQ(losses(straight.out_dir), losses(parts.out_dir));
}

TEST(DistillRun, BadInputIsRefusedNamingTheCulprit) {
  const std::string data = test::write_tiny_shards("distill_bad_shards");
  ops::Context ctx(2);
  const auto cfg = distill::DistillConfig::from_json(tiny_config(2, 2));
  auto expect_error = [](auto&& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one naming " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // A teacher that is not a Llama model: the student file of a finished run will do.
  const auto ok = options(data, "distill_bad_ok");
  distill::run_distill(ctx, cfg, ok);
  const std::string student = ok.out_dir + "/student.gguf";
  expect_error([&] { distill::load_teacher(student); }, "Llama-architecture");
  // Shards whose ids exceed the teacher's vocabulary.
  const std::string wide = test::write_tiny_shards("distill_bad_wide", 500);
  expect_error([&] { distill::run_distill(ctx, cfg, options(wide, "distill_bad_1")); }, "vocabulary (500)");
  // Config errors name the field.
  expect_error([&] { distill::DistillConfig::from_json({{"stages", {{{"stage", 4}, {"tokens", 10}}}}}); }, "stage");
  expect_error([&] { distill::DistillConfig::from_json({{"stages", {{{"stage", 1}, {"tokens", 0}}}}}); }, "tokens");
  expect_error(
      [&] {
        distill::DistillConfig::from_json({{"stages", {{{"stage", 1}, {"tokens", 10}, {"lr_x", 1}}}}});
      },
      "lr_x");
  expect_error(
      [&] {
        distill::DistillConfig::from_json({{"stages", {{{"stage", 1}, {"tokens", 10}, {"tau", 2}}}}});
      },
      "tau");
  expect_error([&] { distill::DistillConfig::from_json({{"tokens", 100}, {"init", "zeros"}}); }, "init");
  // The attention init needs N = the teacher's head dim (8).
  const auto teacher = distill::load_teacher(test::tiny_teacher_path());
  expect_error([&] { distill::make_student(teacher, {distill::StudentInit::kAttention, 16, 8, 1}); }, "d_state");
  // --resume without a checkpoint; a student of another shape.
  auto resume = options(data, "distill_bad_no_ckpt");
  resume.resume = true;
  expect_error([&] { distill::run_distill(ctx, cfg, resume); }, "checkpoint.gguf");
  auto other = options(data, "distill_bad_other");
  other.student = test::temp_path("distill_bad_other_student.gguf").string();
  {
    io::GgufWriter w;
    models::write_init_model(models::Arch::kLlamba, {{"d_model", 16}, {"n_layers", 2}}, 96, 1, w);
    w.write(other.student);
  }
  expect_error([&] { distill::run_distill(ctx, cfg, other); }, "does not match the teacher");
}

TEST(DistillInit, RandomCopiesNothingAttentionCopiesTheProjections) {
  const auto t = distill::load_teacher(test::tiny_teacher_path());
  const auto random = distill::make_student(t, {distill::StudentInit::kRandom, 8, 8, 1});
  const auto attention = distill::make_student(t, {distill::StudentInit::kAttention, 8, 8, 1});
  auto values = [](const io::GgufFile& f, const std::string& n) {
    const core::TensorView v = f.tensor(n);
    return std::vector<float>(v.f32(), v.f32() + v.numel());
  };
  const io::GgufFile& tf = *t.image.file;
  for (const char* n : {"token_embd.weight", "blk.0.ffn_up.weight"}) {
    EXPECT_NE(values(*random.file, n), values(tf, n)) << n;
    EXPECT_EQ(values(*attention.file, n), values(tf, n)) << n;
  }
  EXPECT_EQ(values(*attention.file, "blk.1.ssm_out.weight"), values(tf, "blk.1.attn_output.weight"));
  // in_proj rows: x (4 heads × 8) from W_v, B from W_k, C from W_q; query head 3 reads KV head 1 (GQA 4 / 2).
  const auto in = values(*attention.file, "blk.1.ssm_in.weight"), wk = values(tf, "blk.1.attn_k.weight");
  const auto wq = values(tf, "blk.1.attn_q.weight");
  const int64_t D = 32, di = 32;
  for (int64_t r = 0; r < 8; ++r)
    for (int64_t c = 0; c < D; ++c) {
      ASSERT_EQ(in[(di + 3 * 8 + r) * D + c], wk[(1 * 8 + r) * D + c]) << "B row " << r;
      ASSERT_EQ(in[(2 * di + 3 * 8 + r) * D + c], wq[(3 * 8 + r) * D + c]) << "C row " << r;
    }
}

TEST(DistillRun, TokenizerMismatchWithTheRealTeacher) {
  const std::string model = test::default_model_path();
  if (model.empty()) GTEST_SKIP() << "default model not installed (scripts/get_model.sh)";
  const std::string data = test::write_tiny_shards("distill_fp_shards", 49152, "0123456789abcdef");
  ops::Context ctx(2);
  auto o = options(data, "distill_fp");
  o.teacher = model;
  try {
    distill::run_distill(ctx, distill::DistillConfig::from_json(tiny_config(1, 1)), o);
    ADD_FAILURE() << "no error for shards of another tokenizer";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_fingerprint 0123456789abcdef"), std::string::npos) << e.what();
  }
}

TEST(DistillCli, InitAndDistillFromTheCommandLine) {
  const std::string data = test::write_tiny_shards("distill_cli_shards");
  const std::string teacher = test::tiny_teacher_path(), out = test::temp_path("distill_cli").string();
  const std::string init = test::temp_path("distill_cli_init.gguf").string();
  auto r = test::run_llamba("distill init --teacher '" + teacher + "' -o '" + init + "' --init attention --d-state 8");
  ASSERT_EQ(r.code, 0) << r.out;
  r = test::run_llamba("info '" + init + "'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("llamba"), std::string::npos) << r.out;
  const std::string cfg = test::temp_path("distill_cli.json").string();
  std::ofstream(cfg) << tiny_config(3, 3).dump();
  r = test::run_llamba("distill -q --teacher '" + teacher + "' --data '" + data + "' --config '" + cfg + "' -o '" +
                       out + "' --student '" + init + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("stage 3: 3 steps"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(out + "/student.gguf"));
  // Flags: missing --data, a bad --init, an unknown flag.
  r = test::run_llamba("distill --teacher '" + teacher + "' --tokens 100");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("--data"), std::string::npos) << r.out;
  r = test::run_llamba("distill init --teacher '" + teacher + "' -o '" + init + ".bad' --init zeros");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("--init"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace llamba
