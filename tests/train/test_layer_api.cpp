// The per-layer training API MOHAWK builds on (Model::layer_forward / layer_backward, and Llamba's
// mixer_matrix_forward / backward for stage 1), on tiny random students of every trainable architecture:
// chaining layer_forward over the teacher-style hidden states reproduces the full forward's taps; the backwards
// match central differences of their forwards, for the injected hidden-state gradient and every parameter of the
// layer, and touch no other layer's parameters.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "models/llamba/llamba.h"
#include "models/model.h"
#include "models/tiny_gateloop.h"
#include "models/tiny_llamba.h"
#include "models/tiny_mamba2.h"
#include "ops/rmsnorm.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/params.h"

namespace llamba {
namespace {

using core::DType;
using core::Tensor;

std::string tiny_model(const std::string& arch) {
  if (arch == "llamba") return test::write_tiny_llamba({}, 71, "layer_api");
  if (arch == "mamba2") return test::write_tiny_mamba2({}, 72, "layer_api");
  return test::write_tiny_gateloop(
      test::tiny_gateloop_config(models::gateloop::Transition::kMagPhase, true, ops::GateKind::kScalar, 4), 73,
      "layer_api");
}

std::vector<float> randn(core::Rng& rng, int64_t n, double scale = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = (float)(scale * rng.normal());
  return v;
}

double dot(const std::vector<float>& a, const float* b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (double)a[i] * b[i];
  return s;
}

class LayerApi : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    image_ = std::make_unique<train::WritableModelFile>(train::read_writable(tiny_model(GetParam())));
    model_ = models::load_model(*image_->file);
    params_ = std::make_unique<train::ParameterSet>(*model_);
    D_ = model_->info().d_model;
    core::Rng rng(3);
    for (int64_t i = 0; i < B_ * T_; ++i) ids_.push_back((int32_t)rng.below(model_->info().n_vocab));
  }

  // The residual stream entering every layer (and after the last) of a full forward over fresh states.
  std::map<int, std::vector<float>> hidden_taps() {
    std::map<int, std::vector<float>> taps;
    models::Observer obs = [&](std::string_view name, int l, const core::TensorView& t) {
      if (name == "hidden") taps[l].assign(t.f32(), t.f32() + t.numel());
    };
    models::FreshStates st(*model_, B_);
    std::vector<float> logits(B_ * T_ * model_->info().n_vocab);
    model_->forward(ctx_, ids_, B_, st.ptrs, core::view_f32(logits, {B_, T_, model_->info().n_vocab}),
                    {.all_logits = true, .observer = &obs});
    return taps;
  }

  // Central differences of `loss` along random directions: the hidden state `h` itself, then every parameter
  // whose name starts with `prefix` (their analytic gradients already in params_), against ⟨∇, d⟩.
  void expect_directional_derivatives(const std::function<double()>& loss, std::vector<float>& h,
                                      const std::vector<float>& dh, const std::string& prefix) {
    core::Rng rng(11);
    auto check = [&](float* value, const float* grad, int64_t n, double step, const std::string& what) {
      const std::vector<float> d = randn(rng, n), saved(value, value + n);
      const double analytic = dot(d, grad);
      double gnorm = 0;
      for (int64_t i = 0; i < n; ++i) gnorm += (double)grad[i] * grad[i];
      for (int64_t i = 0; i < n; ++i) value[i] = saved[i] + (float)(step * d[i]);
      const double lp = loss();
      for (int64_t i = 0; i < n; ++i) value[i] = saved[i] - (float)(step * d[i]);
      const double lm = loss();
      std::copy(saved.begin(), saved.end(), value);
      const double numeric = (lp - lm) / (2 * step), err = std::fabs(numeric - analytic) / std::sqrt(gnorm);
      std::printf("%-28s analytic %+.6e numeric %+.6e err/|g| %.2e\n", what.c_str(), analytic, numeric, err);
      // The same bound and steps as the full-model backward tests (test_mamba2_backward.cpp): the loss change
      // must dwarf the fp32 forward's rounding and stay in the linear regime; a wrong term is O(1).
      EXPECT_LE(err, 1e-2) << what;
    };
    check(h.data(), dh.data(), (int64_t)h.size(), 1e-2, "hidden state");
    for (auto& p : params_->params()) {
      if (p.name.rfind(prefix, 0) != 0) continue;
      double g2 = 0;
      for (int64_t i = 0; i < p.grad.numel(); ++i) g2 += (double)p.grad.f32()[i] * p.grad.f32()[i];
      if (g2 == 0) continue;  // a parameter this path cannot move (checked by the callers where it matters)
      check(p.value.f32(), p.grad.f32(), p.value.numel(), p.value.shape.rank() == 1 ? 1e-2 : 1e-3, p.name);
    }
  }

  // Every parameter outside `prefix` has a zero gradient.
  void expect_only(const std::string& prefix) {
    for (const auto& p : params_->params()) {
      if (p.name.rfind(prefix, 0) == 0) continue;
      for (int64_t i = 0; i < p.grad.numel(); ++i) ASSERT_EQ(p.grad.f32()[i], 0.0f) << p.name;
    }
  }

  std::unique_ptr<train::WritableModelFile> image_;
  std::unique_ptr<models::Model> model_;
  std::unique_ptr<train::ParameterSet> params_;
  ops::Context ctx_{2};
  const int64_t B_ = 2, T_ = 21;  // T not a multiple of the chunk lengths (16)
  int64_t D_ = 0;
  std::vector<int32_t> ids_;
};

TEST_P(LayerApi, ChainedLayersReproduceTheForward) {
  auto taps = hidden_taps();
  const int64_t L = model_->info().n_layers;
  for (int64_t l = 0; l < L; ++l) {
    std::vector<float> out(B_ * T_ * D_);
    model_->layer_forward(ctx_, l, core::view_f32(taps[(int)l], {B_ * T_, D_}), B_, core::view_f32(out, {B_ * T_, D_}));
    // The full forward runs prefill's chunked form, layer_forward the training form (GateLoop: recurrent): the
    // same recurrence with other fp32 summation orders, 2e-5 of the scale as in the mode-equivalence tests.
    EXPECT_LE(test::rel_max_error(out.data(), taps[(int)l + 1].data(), B_ * T_ * D_), 2e-5) << "layer " << l;
  }
}

TEST_P(LayerApi, LayerBackwardMatchesCentralDifferences) {
  auto taps = hidden_taps();
  const int64_t l = 1, M = B_ * T_;
  std::vector<float> h = taps[(int)l], out(M * D_), dh(M * D_, 0.0f);
  core::Rng rng(5);
  const std::vector<float> r = randn(rng, M * D_);  // L = ⟨r, h_out⟩, so dL/dh_out = r
  auto loss = [&] {
    auto c = model_->layer_forward(ctx_, l, core::view_f32(h, {M, D_}), B_, core::view_f32(out, {M, D_}));
    return dot(r, out.data());
  };
  params_->zero_grad();
  auto cache = model_->layer_forward(ctx_, l, core::view_f32(h, {M, D_}), B_, core::view_f32(out, {M, D_}));
  std::vector<float> r_copy = r;
  model_->layer_backward(ctx_, *cache, core::view_f32(r_copy, {M, D_}), core::view_f32(dh, {M, D_}), params_->grads());
  expect_only("blk.1.");
  expect_directional_derivatives(loss, h, dh, "blk.1.");
}

TEST_P(LayerApi, BadArgumentsThrow) {
  std::vector<float> h(B_ * T_ * D_), out(B_ * T_ * D_);
  EXPECT_THROW(model_->layer_forward(ctx_, model_->info().n_layers, core::view_f32(h, {B_ * T_, D_}), B_,
                                     core::view_f32(out, {B_ * T_, D_})),
               Error);
  EXPECT_THROW(
      model_->layer_forward(ctx_, 0, core::view_f32(h, {B_ * T_ * D_ / 2, 2}), B_, core::view_f32(out, {B_ * T_, D_})),
      Error);
}

INSTANTIATE_TEST_SUITE_P(Students, LayerApi, ::testing::Values("llamba", "mamba2", "gateloop"),
                         [](const auto& info) { return info.param; });

// Stage 1 on Llamba: m = M(attn_norm(h)) per row equals the model's mixer_matrix on the normed input; its backward
// matches central differences, gives D the diagonal sums of dm, and leaves x, z, z_bias and out_proj untouched.
class LlambaMatrix : public LayerApi {};

TEST_P(LlambaMatrix, MixerMatrixForwardAndBackward) {
  auto taps = hidden_taps();
  const int64_t l = 1, M = B_ * T_, H = 4;  // TinyLlambaShape: 4 heads
  std::vector<float> h = taps[(int)l], m(B_ * H * T_ * T_), dh(M * D_, 0.0f);
  auto cache =
      model_->mixer_matrix_forward(ctx_, l, core::view_f32(h, {M, D_}), B_, core::view_f32(m, {B_, H, T_, T_}));
  // The same matrix through the model's own stage-1 helper on the normed input.
  const auto* student = dynamic_cast<const models::llamba::LlambaModel*>(model_.get());
  ASSERT_TRUE(student);
  for (int64_t b = 0; b < B_; ++b) {
    Tensor u = Tensor::zeros(DType::kF32, {T_, D_}), mb = Tensor::zeros(DType::kF32, {H, T_, T_});
    ops::rmsnorm_forward(ctx_, u, core::view_f32(h, {M, D_}).slice(0, b * T_, (b + 1) * T_),
                         student->weights().layers[l].attn_norm, (float)student->config().block_eps);
    student->mixer_matrix(ctx_, l, u, mb);
    EXPECT_EQ(test::rel_max_error(mb.f32(), m.data() + b * H * T_ * T_, H * T_ * T_), 0.0) << "row " << b;
  }
  core::Rng rng(9);
  std::vector<float> r = randn(rng, (int64_t)m.size());
  for (int64_t i = 0; i < (int64_t)m.size(); ++i)
    if ((i % T_) > (i / T_) % T_) r[i] = 0;  // above the diagonal M is 0 whatever the weights
  params_->zero_grad();
  model_->mixer_matrix_backward(ctx_, *cache, core::view_f32(r, {B_, H, T_, T_}), core::view_f32(dh, {M, D_}),
                                params_->grads());
  expect_only("blk.1.");
  const float* dd = params_->grad("blk.1.ssm_d").f32();
  for (int64_t hh = 0; hh < H; ++hh) {
    double diag = 0;
    for (int64_t b = 0; b < B_; ++b)
      for (int64_t t = 0; t < T_; ++t) diag += r[((b * H + hh) * T_ + t) * T_ + t];
    EXPECT_NEAR(dd[hh], diag, 1e-5 * (1 + std::fabs(diag))) << "head " << hh;
  }
  for (const char* frozen : {"blk.1.ssm_out.weight", "blk.1.ssm_z_bias"}) {
    const Tensor& g = params_->grad(frozen);
    for (int64_t i = 0; i < g.numel(); ++i) ASSERT_EQ(g.f32()[i], 0.0f) << frozen;
  }
  auto loss = [&] {
    model_->mixer_matrix_forward(ctx_, l, core::view_f32(h, {M, D_}), B_, core::view_f32(m, {B_, H, T_, T_}));
    return dot(r, m.data());
  };
  expect_directional_derivatives(loss, h, dh, "blk.1.");
}

INSTANTIATE_TEST_SUITE_P(Llamba, LlambaMatrix, ::testing::Values("llamba"));

}  // namespace
}  // namespace llamba
