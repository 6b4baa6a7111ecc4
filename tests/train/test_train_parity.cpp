// One training step of tiny student models against PyTorch autograd (fp64 fixtures from
// tools/reference/make_train_fixtures.py): the loss and every parameter gradient, then a 10-step AdamW loss
// trajectory against torch.optim.AdamW on the same batch. Fixture names are <family>_<checkpoint folder>.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "io/hf_checkpoint.h"
#include "io/safetensors.h"
#include "models/convert.h"
#include "models/model.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/optim/adamw.h"
#include "train/params.h"

namespace llamba {
namespace {

// Mean cross-entropy over B·T positions and its gradient (softmax - onehot) / (B·T), in double.
double cross_entropy(const std::vector<float>& logits, const std::vector<int32_t>& targets, int64_t V,
                     std::vector<float>* dlogits) {
  const int64_t M = targets.size();
  double total = 0;
  if (dlogits) dlogits->assign(M * V, 0.0f);
  for (int64_t m = 0; m < M; ++m) {
    const float* row = logits.data() + m * V;
    double mx = row[0];
    for (int64_t v = 1; v < V; ++v) mx = std::max(mx, (double)row[v]);
    double s = 0;
    for (int64_t v = 0; v < V; ++v) s += std::exp(row[v] - mx);
    total += mx + std::log(s) - row[targets[m]];
    if (dlogits)
      for (int64_t v = 0; v < V; ++v)
        (*dlogits)[m * V + v] = (float)((std::exp(row[v] - mx) / s - (v == targets[m])) / M);
  }
  return total / M;
}

struct Batch {
  std::vector<int32_t> inputs, targets;
  int64_t B = 0, T = 0;
};

Batch split(const std::vector<int64_t>& tokens, int64_t B) {
  Batch b;
  b.B = B;
  b.T = tokens.size() / B - 1;
  for (int64_t r = 0; r < B; ++r)
    for (int64_t t = 0; t < b.T; ++t) {
      b.inputs.push_back((int32_t)tokens[r * (b.T + 1) + t]);
      b.targets.push_back((int32_t)tokens[r * (b.T + 1) + t + 1]);
    }
  return b;
}

// The fixture's model: its checkpoint tests/fixtures/<family>/<checkpoint> converted (`training` selects the
// parametrization training updates, mamba2: A_log), or, for a fixture that carries its own parameters
// (param.<name>, with the `llamba train` model JSON in metadata init_config: models the upstream package cannot
// express), a model initialized from that JSON with every parameter overwritten.
struct Loaded {
  train::WritableModelFile image;
  std::unique_ptr<models::Model> model;
};
Loaded load(const std::string& family, const std::string& ckpt_name, bool training, const io::SafetensorsFile& ref) {
  io::GgufWriter w;
  Loaded l;
  const auto init = ref.metadata().find("init_config");
  if (init == ref.metadata().end()) {
    const auto ckpt = io::HfCheckpoint::open(test::fixture_path(family + "/" + ckpt_name));
    models::ConvertOptions opts;
    opts.training = training;
    models::convert_hf(ckpt, opts, w);  // w references ckpt's mapped tensors until written
    l.image = train::from_writer(w, family + "_" + ckpt_name);
  } else {
    const int64_t V = ref.tensor("param.token_embd.weight").size(0);
    models::write_init_model(*models::arch_from_name(family), nlohmann::json::parse(init->second), V, 0, w);
    l.image = train::from_writer(w, family + "_" + ckpt_name);
    size_t n_params = 0;
    for (const auto& e : ref.entries()) n_params += e.name.rfind("param.", 0) == 0;
    EXPECT_EQ(l.image.file->tensors().size(), n_params) << ckpt_name << ": the JSON's model has other tensors";
    for (const auto& t : l.image.file->tensors()) {
      const core::Tensor want = ref.to_f32("param." + t.name);  // f32-representable values stored as f64
      const core::TensorView dst = l.image.file->tensor(t);
      EXPECT_EQ(want.shape(), dst.shape) << t.name;
      if (want.shape() == dst.shape) std::memcpy(dst.data, want.f32(), want.numel() * sizeof(float));
    }
  }
  l.model = models::load_model(*l.image.file);
  return l;
}

// One forward + backward on the fixture's batch: the loss and every parameter gradient against the reference.
// Returns the worst gradient error (max |ours − ref| / max |ref| per tensor).
double check_one_step(const std::string& name, const models::Model& model, train::ParameterSet& params,
                      const io::SafetensorsFile& ref, const Batch& batch, ops::Context& ctx) {
  const int64_t V = model.info().n_vocab;
  std::vector<float> logits(batch.B * batch.T * V), dlogits;
  auto cache = model.forward_train(ctx, batch.inputs, batch.B, core::view_f32(logits, {batch.B, batch.T, V}));
  const double loss = cross_entropy(logits, batch.targets, V, &dlogits);
  const double want_loss = ref.to_f64("loss").f64()[0];
  // fp32 forward vs fp64 reference: the loss is a mean of log-sum-exps of logits with ~1e-6 relative error
  // (measured: <= 4.5e-8 on every fixture).
  EXPECT_NEAR(loss, want_loss, 1e-5 * std::fabs(want_loss)) << name;
  params.zero_grad();
  model.backward(ctx, *cache, core::view_f32(dlogits, {batch.B, batch.T, V}), params.grads());
  // Gradients: fp32 backward vs the fp64 reference. Each is a sum over B·T positions of products of fp32
  // activations and upstream gradients (relative error ~sqrt(B·T)·eps per op, a few ops deep): 1e-4 of the
  // tensor's largest |gradient| bounds it with margin (measured worst: 4.4e-6 llamba, 3.2e-6 mamba2).
  double worst = 0;
  std::string worst_name;
  for (const auto& p : params.params()) {
    const core::Tensor want = ref.to_f64("grad." + p.name);
    EXPECT_EQ(want.shape(), p.grad.shape()) << p.name;
    if (want.shape() != p.grad.shape()) continue;
    const double err = test::rel_max_error(p.grad.f32(), want.f64(), want.numel());
    EXPECT_LE(err, 1e-4) << name << ": gradient of " << p.name;
    if (err >= worst) worst = err, worst_name = p.name;
  }
  std::printf("%s: loss %.9g (ref %.9g, rel %.2g), worst gradient error %.3g (%s) over %zu tensors\n", name.c_str(),
              loss, want_loss, std::fabs(loss - want_loss) / std::fabs(want_loss), worst, worst_name.c_str(),
              params.params().size());
  return worst;
}

std::set<std::string> names_of(const models::Model& m) {
  std::set<std::string> s;
  m.for_each_tensor([&](const std::string& n, const core::TensorView&) { s.insert(n); });
  return s;
}

class TrainParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainParity, OneStepGradientsAndAdamWTrajectory) {
  const std::string name = GetParam();
  const std::string family = name.substr(0, name.find('_')), ckpt_name = name.substr(name.find('_') + 1);
  const auto ref = io::SafetensorsFile::open(test::fixture_path("train/" + name + ".safetensors"));
  Loaded m = load(family, ckpt_name, true, ref);
  train::ParameterSet params(*m.model);
  const Batch batch = split(ref.to_i64("tokens"), ref.tensor("tokens").size(0));
  const int64_t V = m.model->info().n_vocab;
  ops::Context ctx(2);
  check_one_step(name, *m.model, params, ref, batch, ctx);

  // The inference conversion, where it holds other parameters (mamba2's folded ssm_a = A instead of A_log; the
  // fixture maps dL/dA_log to dL/dA), gets the one-step check too.
  Loaded inf = load(family, ckpt_name, false, ref);
  if (names_of(*inf.model) != names_of(*m.model)) {
    train::ParameterSet inf_params(*inf.model);
    check_one_step(name + " (inference form)", *inf.model, inf_params, ref, batch, ctx);
  }

  // 10 AdamW steps (lr 1e-3, betas (0.9, 0.95), eps 1e-8, wd 0.1 on matrices) on the same batch.
  std::vector<float> logits(batch.B * batch.T * V), dlogits;
  train::AdamW opt(params, {0.9, 0.95, 1e-8, 0.1});
  const core::Tensor want_traj = ref.to_f64("adamw_losses");
  double worst_traj = 0;
  for (int step = 0; step < 10; ++step) {
    params.zero_grad();
    auto c = m.model->forward_train(ctx, batch.inputs, batch.B, core::view_f32(logits, {batch.B, batch.T, V}));
    const double l = cross_entropy(logits, batch.targets, V, &dlogits);
    // Deviations compound through the updates; fp32 against fp64 stays within 1e-4 relative over 10 steps
    // (measured worst: 5.3e-7 llamba, 2.2e-7 mamba2).
    EXPECT_NEAR(l, want_traj.f64()[step], 1e-4 * std::fabs(want_traj.f64()[step])) << "step " << step;
    worst_traj = std::max(worst_traj, std::fabs(l - want_traj.f64()[step]) / std::fabs(want_traj.f64()[step]));
    m.model->backward(ctx, *c, core::view_f32(dlogits, {batch.B, batch.T, V}), params.grads());
    opt.step(1e-3);
  }
  std::printf("%s: AdamW trajectory worst relative deviation %.3g over 10 steps\n", name.c_str(), worst_traj);
}

INSTANTIATE_TEST_SUITE_P(Students, TrainParity, ::testing::Values("llamba_g_lt_h", "llamba_p_odd", "mamba2_p_odd_untied",
                                                            "mamba2_groups2", "mamba2_dt_limit"));
// GateLoop: two lucidrains checkpoints (polar, frac_gradient_state_transition 0.9; B·T = 200, trained in the
// default recurrent mode) and three of our variants (B·T = 80; magphase_vec and fixed_heads in the chunked mode,
// three 16-step chunks). The shared bounds hold with margin: the gradient error of an fp32 chain of ~10 ops over
// B·T positions is ~10·sqrt(B·T)·eps32 ≈ 2e-5 at most; measured worst 2.3e-6 (magphase_vec), loss within 6e-9
// relative, AdamW trajectory within 1.1e-7 (magphase_vec).
INSTANTIATE_TEST_SUITE_P(GateLoop, TrainParity,
                         ::testing::Values("gateloop_heads4", "gateloop_sub_ln_inner", "gateloop_magphase_vec",
                                           "gateloop_real_maxheads", "gateloop_fixed_heads"));

}  // namespace
}  // namespace llamba
