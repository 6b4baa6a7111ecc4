// The MOHAWK stages against goombalab/mohawk's losses in fp64 (tools/reference/make_mohawk_fixtures.py,
// tests/fixtures/mohawk/tiny): the teacher's taps, each stage's per-layer losses, every gradient of the stage's
// trainable set (and that set itself), and a 10-step AdamW trajectory on one batch.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "distill/stages.h"
#include "distill/teacher.h"
#include "io/hf_checkpoint.h"
#include "io/safetensors.h"
#include "models/convert.h"
#include "test_util.h"
#include "tiny_teacher.h"
#include "train/optim/adamw.h"
#include "train/params.h"

namespace llamba {
namespace {

using core::Tensor;

const std::string kDir = "mohawk/tiny/";

train::WritableModelFile convert(const std::string& folder) {
  const auto ckpt = io::HfCheckpoint::open(test::fixture_path(kDir + folder));
  io::GgufWriter w;
  models::ConvertOptions opts;
  opts.training = true;
  models::convert_hf(ckpt, opts, w);
  return train::from_writer(w, folder);
}

struct Fixture {
  io::SafetensorsFile ref = io::SafetensorsFile::open(test::fixture_path(kDir + "reference.safetensors"));
  distill::Teacher teacher;
  train::WritableModelFile student_image = convert("student");
  std::unique_ptr<models::Model> student = models::load_model(*student_image.file);
  std::vector<int32_t> window;  // (B, T + 1): the fixture's tokens, one unused target column appended
  int64_t B = 0, T = 0;
  ops::Context ctx{2};

  Fixture() {
    teacher = distill::load_teacher(test::tiny_teacher_path());
    const std::vector<int64_t> tok = ref.to_i64("tokens");
    B = ref.tensor("tokens").shape[0], T = ref.tensor("tokens").shape[1];
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < T; ++t) window.push_back((int32_t)tok[b * T + t]);
      window.push_back(0);
    }
  }
};

// Per-tensor error bound for gradients: fp32 sums over B·T·T products a few ops deep against fp64 (relative
// ~sqrt(B·T·T)·eps ≈ 2e-6 per op); 1e-4 of the tensor's largest |gradient| bounds it with margin.
constexpr double kGradTol = 1e-4;

// One accumulate() of `obj` against the fixture's <prefix>.loss / layer_loss / grad.* and the trainable set.
void check_stage(Fixture& f, distill::StageObjective& obj, const std::string& prefix) {
  train::ParameterSet params(*f.student);
  params.set_trainable([&](const std::string& n) { return obj.trains(n); });
  params.zero_grad();
  const double loss = obj.accumulate(f.ctx, *f.student, f.window, f.B, f.T, params.grads(), 1.0f);
  const double want = f.ref.to_f64(prefix + ".loss").f64()[0];
  // A sum of norms of fp32 quantities (relative error ~sqrt(K)·eps, K ≤ T·V): 1e-5 relative.
  EXPECT_NEAR(loss, want, 1e-5 * std::fabs(want)) << prefix;
  if (f.ref.has(prefix + ".layer_loss")) {
    const Tensor wl = f.ref.to_f64(prefix + ".layer_loss");
    ASSERT_EQ((int64_t)obj.layer_losses().size(), wl.numel());
    for (int64_t l = 0; l < wl.numel(); ++l)
      EXPECT_NEAR(obj.layer_losses()[l], wl.f64()[l], 1e-5 * std::fabs(wl.f64()[l])) << prefix << " layer " << l;
  }
  std::set<std::string> want_trainable, ours;
  for (const auto& e : f.ref.entries())
    if (e.name.rfind(prefix + ".grad.", 0) == 0) want_trainable.insert(e.name.substr(prefix.size() + 6));
  double worst = 0;
  for (const auto& p : params.params()) {
    if (!p.trainable) continue;
    ours.insert(p.name);
    if (!want_trainable.count(p.name)) continue;
    const Tensor g = f.ref.to_f64(prefix + ".grad." + p.name);
    ASSERT_EQ(g.shape(), p.grad.shape()) << p.name;
    const double err = test::rel_max_error(p.grad.f32(), g.f64(), g.numel());
    EXPECT_LE(err, kGradTol) << prefix << ": gradient of " << p.name;
    worst = std::max(worst, err);
  }
  EXPECT_EQ(ours, want_trainable) << prefix << ": the trainable set differs from the parameters torch gives a .grad";
  std::printf("%s: loss %.9g (ref %.9g), worst gradient error %.3g over %zu tensors\n", prefix.c_str(), loss, want,
              worst, ours.size());
}

// 10 AdamW steps (lr 1e-3, betas (0.9, 0.95), eps 1e-8, wd 0.1 on matrices) on the fixture's batch.
void check_trajectory(Fixture& f, distill::StageObjective& obj, const std::string& prefix) {
  train::ParameterSet params(*f.student);
  params.set_trainable([&](const std::string& n) { return obj.trains(n); });
  train::AdamW opt(params, {0.9, 0.95, 1e-8, 0.1});
  const Tensor want = f.ref.to_f64(prefix + ".adamw_losses");
  double worst = 0;
  for (int64_t step = 0; step < want.numel(); ++step) {
    params.zero_grad();
    const double l = obj.accumulate(f.ctx, *f.student, f.window, f.B, f.T, params.grads(), 1.0f);
    // Deviations compound through the updates: 1e-4 relative over 10 steps.
    EXPECT_NEAR(l, want.f64()[step], 1e-4 * std::fabs(want.f64()[step])) << prefix << " step " << step;
    worst = std::max(worst, std::fabs(l - want.f64()[step]) / std::fabs(want.f64()[step]));
    opt.step(1e-3);
  }
  std::printf("%s: AdamW trajectory %.4f -> %.4f, worst relative deviation %.3g\n", prefix.c_str(), want.f64()[0],
              want.f64()[want.numel() - 1], worst);
}

TEST(MohawkParity, TeacherTaps) {
  Fixture f;
  const int64_t L = f.teacher.config.n_layers;
  const Tensor hidden = f.ref.to_f64("teacher.hidden"), attn = f.ref.to_f64("teacher.attn");
  const Tensor attn_out = f.ref.to_f64("teacher.attn_out"), residual = f.ref.to_f64("teacher.residual_last");
  const int64_t hs = hidden.numel() / (L + 1), as = attn.numel() / L;
  int seen = 0;
  const models::Observer tap = [&](std::string_view name, int l, const core::TensorView& t) {
    // An fp32 forward of a few layers against fp64: 1e-5 of the largest |value| per tensor.
    const auto check = [&](const double* want, const char* what) {
      EXPECT_LE(test::rel_max_error(t.f32(), want, t.numel()), 1e-5) << what << " layer " << l;
      ++seen;
    };
    if (name == "hidden" && l < L) check(hidden.f64() + l * hs, "hidden");
    if (name == "hidden" && l == L) check(residual.f64(), "residual_last");
    if (name == "final_hidden") check(hidden.f64() + L * hs, "final_hidden");
    if (name == "attn_probs") check(attn.f64() + l * as, "attn_probs");
    if (name == "mixer_out") check(attn_out.f64() + l * hs, "attn_out");
  };
  std::vector<int32_t> in, tgt;
  train::split_window(f.window, f.T, -1, in, tgt);
  models::FreshStates fresh(*f.teacher.model, f.B);
  Tensor logits = Tensor::zeros(core::DType::kF32, {f.B, f.T, f.teacher.config.n_vocab});
  models::ForwardOptions o;
  o.all_logits = true;
  o.observer = &tap;
  o.attention_probs = true;
  f.teacher.model->forward(f.ctx, in, f.B, fresh.ptrs, logits.view(), o);
  EXPECT_EQ(seen, 3 * L + 2);  // hidden ×L, residual, final_hidden, attn_probs ×L, mixer_out ×L
  const Tensor want = f.ref.to_f64("teacher.logits");
  EXPECT_LE(test::rel_max_error(logits.f32(), want.f64(), want.numel()), 1e-5);
}

// One stage variant of the fixture: its key prefix, the stage config, whether the fixture holds a trajectory.
struct StageCase {
  const char* prefix;
  int stage;
  distill::LastTarget last_target = distill::LastTarget::kFinalNormed;
  double tau = 1.0;
  bool trajectory = false;
};

class MohawkStage : public ::testing::TestWithParam<StageCase> {};

TEST_P(MohawkStage, LossGradientsTrainableSetAndTrajectory) {
  const StageCase& sc = GetParam();
  Fixture f;
  distill::StageConfig c;
  c.stage = sc.stage;
  c.last_target = sc.last_target;
  c.tau = sc.tau;
  const auto obj = distill::make_stage_objective(*f.teacher.model, c);
  check_stage(f, *obj, sc.prefix);
  if (sc.trajectory) check_trajectory(f, *obj, sc.prefix);
}

INSTANTIATE_TEST_SUITE_P(Stages, MohawkStage,
                         ::testing::Values(StageCase{"stage1", 1, distill::LastTarget::kFinalNormed, 1.0, true},
                                           StageCase{"stage2", 2, distill::LastTarget::kFinalNormed, 1.0,
                                                     true},  // the default target
                                           StageCase{"stage2r", 2, distill::LastTarget::kResidual},
                                           StageCase{"stage3", 3, distill::LastTarget::kFinalNormed, 1.0, true},
                                           StageCase{"stage3t2", 3, distill::LastTarget::kFinalNormed, 2.0}),
                         [](const ::testing::TestParamInfo<StageCase>& i) { return std::string(i.param.prefix); });

}  // namespace
}  // namespace llamba
