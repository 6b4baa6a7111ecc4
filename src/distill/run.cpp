// The MOHAWK driver: teacher and data checks, the student (init or given), then each stage through the shared
// trainer loop (train::run_training) with its objective, one log and one checkpoint file for the whole run.
#include "distill/run.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "distill/stages.h"
#include "distill/student_init.h"
#include "distill/teacher.h"
#include "ops/cpu/blas.h"

namespace llamba::distill {

namespace fs = std::filesystem;

namespace {

// Throws unless the student can be aligned to the teacher layer by layer (and, with stage 1, head by head).
void check_student(const models::Model& student, const io::GgufFile& sf, const Teacher& t, const DistillConfig& cfg) {
  const models::ModelInfo& s = student.info();
  LLAMBA_ENSURE(s.arch == models::Arch::kLlamba, "{}: the student must be a Llamba model", sf.path());
  LLAMBA_ENSURE(s.n_layers == t.config.n_layers && s.d_model == t.config.d_model && s.n_vocab == t.config.n_vocab,
                "{}: the student ({} layers, d_model {}, vocab {}) does not match the teacher {} ({}, {}, {})",
                sf.path(), s.n_layers, s.d_model, s.n_vocab, t.path, t.config.n_layers, t.config.d_model,
                t.config.n_vocab);
  bool stage1 = false;
  for (const auto& st : cfg.stages) stage1 |= st.stage == 1;
  const int64_t heads = sf.get_int("llamba.ssm.head_count");
  LLAMBA_ENSURE(!stage1 || heads == t.config.n_heads,
                "{}: stage 1 pairs mixer heads with attention heads: the student has {} SSM heads, the teacher {} "
                "query heads",
                sf.path(), heads, t.config.n_heads);
}

// The files a finished stage and the finished run leave in the run folder.
std::string stage_file(const DistillOptions& o, const StageConfig& st) {
  return (fs::path(o.out_dir) / fmt::format("stage{}.gguf", st.stage)).string();
}
std::string student_file(const DistillOptions& o) { return (fs::path(o.out_dir) / "student.gguf").string(); }

}  // namespace

DistillReport run_distill(ops::Context& ctx, const DistillConfig& given, const DistillOptions& opts) {
  fs::create_directories(opts.out_dir);
  const fs::path ckpt = fs::path(opts.out_dir) / "checkpoint.gguf";
  const fs::path log = fs::path(opts.out_dir) / "log.csv";
  const Teacher teacher = load_teacher(opts.teacher);
  const train::ShardSet data = train::open_shard_dir(opts.data);
  check_tokenizer_matches(teacher, data, opts.data);

  DistillConfig cfg = given;
  train::WritableModelFile image;
  size_t first = 0;
  bool resume_stage = false;
  if (opts.resume) {
    LLAMBA_ENSURE(fs::exists(ckpt), "--resume: {} does not exist", ckpt.string());
    image = train::read_writable(ckpt.string());
    LLAMBA_ENSURE(image.file->has("distill.stage_index"), "{}: not a distillation checkpoint (no distill.stage_index)",
                  ckpt.string());
    cfg = DistillConfig::from_json(nlohmann::json::parse(image.file->get_string("distill.config")));
    first = (size_t)image.file->get_int("distill.stage_index");
    LLAMBA_ENSURE(first < cfg.stages.size(), "{}: distill.stage_index {} out of range", ckpt.string(), first);
    resume_stage = image.file->get_int("train.step") < cfg.stages[first].steps();
    // A finished stage starts the next one fresh from its weights, unless it was killed between its last
    // checkpoint and its files: then it is finished again (no steps; the stage file, after the last the student).
    const bool last = first + 1 == cfg.stages.size();
    const bool written = fs::exists(stage_file(opts, cfg.stages[first])) && (!last || fs::exists(student_file(opts)));
    if (!resume_stage && written) ++first;
    resume_stage = resume_stage || !written;
  } else {
    if (opts.student.empty())
      image = make_student(teacher, {cfg.init, cfg.d_state, cfg.chunk_size, cfg.seed});
    else
      image = train::read_writable(opts.student);
    std::error_code ec;
    fs::remove(log, ec);  // a fresh run starts a fresh log, and no file of an earlier run looks like its own
    fs::remove(student_file(opts), ec);
    for (const StageConfig& st : cfg.stages) fs::remove(stage_file(opts, st), ec);
  }
  {
    const auto student = models::load_model(*image.file);
    check_student(*student, *image.file, teacher, cfg);
  }

  DistillReport report;
  int64_t budget = opts.max_steps;  // steps left to this call; < 0: unlimited
  const std::string cfg_json = cfg.to_json().dump();
  for (size_t k = first; k < cfg.stages.size(); ++k) {
    if (budget == 0) return report;  // --max-steps spent exactly at a stage's end: the next call starts stage k
    const StageConfig& st = cfg.stages[k];
    const train::TrainConfig tc = st.train_config(cfg.seed, (int64_t)k, cfg.checkpoint_interval, cfg.log_interval);
    auto objective = make_stage_objective(*teacher.model, st);
    const StageObjective* obj = objective.get();
    train::Trainer t(ctx, tc, data, std::move(image), std::move(objective), resume_stage);
    resume_stage = false;
    StageReport rep;
    rep.stage = st.stage;
    train::RunOptions ro;
    ro.out_dir = opts.out_dir;
    ro.progress_bar = opts.progress_bar;
    ro.tag_column = "stage";
    ro.tag = std::to_string(st.stage);
    ro.checkpoint_extra = {{"distill.stage_index", io::GgufValue::i64((int64_t)k)},
                           {"distill.stage", io::GgufValue::i64(st.stage)},
                           {"distill.config", io::GgufValue::string(cfg_json)},
                           {"distill.teacher", io::GgufValue::string(teacher.path)}};
    ro.plot_name = fmt::format("loss_stage{}.png", st.stage);
    ro.title = fmt::format("MOHAWK stage {} loss", st.stage);
    ro.bar_label = fmt::format("stage {}", st.stage);
    const int64_t done_before = t.steps_done();
    if (budget >= 0) ro.stop_at_step = done_before + budget;
    bool first_step = true;
    std::vector<double> step_rates;  // sgemm FLOP/s between consecutive steps
    auto last_t = std::chrono::steady_clock::now();
    uint64_t last_flops = 0;
    ro.on_step = [&](const train::StepResult& r) {
      if (first_step) rep.first_loss = r.loss, first_step = false;
      rep.last_loss = r.loss;
      rep.layer_losses = obj->layer_losses();
      const auto now = std::chrono::steady_clock::now();
      const uint64_t flops = ops::cpu::sgemm_flops_done();
      const double dt = std::chrono::duration<double>(now - last_t).count();
      if (dt > 0) step_rates.push_back((double)(flops - last_flops) / dt);
      last_t = std::chrono::steady_clock::now(), last_flops = ops::cpu::sgemm_flops_done();
    };
    fmt::print(stderr, "[llamba] distill stage {} ({} of {}): {} steps of {} x {} tokens, {:.2f} M trainable\n",
               st.stage, k + 1, cfg.stages.size(), tc.steps, tc.batch * tc.grad_accum, tc.seq_len,
               t.params().numel_trainable() / 1e6);
    rep.sgemm_rate = ops::cpu::measure_sgemm_rate(ctx.pool());
    const uint64_t flops0 = ops::cpu::sgemm_flops_done();
    const auto t0 = std::chrono::steady_clock::now();
    last_t = t0, last_flops = flops0;
    rep.held_out = train::run_training(t, ro);
    rep.gemm_flops = (double)(ops::cpu::sgemm_flops_done() - flops0);
    if (!step_rates.empty()) {
      std::nth_element(step_rates.begin(), step_rates.begin() + step_rates.size() / 2, step_rates.end());
      rep.step_gemm_rate = step_rates[step_rates.size() / 2];
    }
    rep.steps = t.steps_done() - done_before;
    rep.tokens = rep.steps * tc.batch * tc.seq_len * tc.grad_accum;
    if (budget >= 0) budget -= rep.steps;
    if (t.steps_done() < tc.steps) {  // stopped by max_steps: checkpoint.gguf holds the place
      rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      report.stages.push_back(rep);
      return report;
    }
    if (tc.eval_interval == 0) rep.held_out = t.evaluate();
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    train::save_model(stage_file(opts, st), t.image(), t.params());
    if (k + 1 == cfg.stages.size()) {
      report.student_path = student_file(opts);
      train::save_model(report.student_path, t.image(), t.params());
    }
    report.stages.push_back(rep);
    image = t.take_image();
  }
  report.finished = true;
  if (report.student_path.empty()) report.student_path = student_file(opts);
  return report;
}

}  // namespace llamba::distill
