// Mamba-2 backward against central differences of the fp32 training forward, per parameter tensor, on a model
// shape the PyTorch fixtures cannot have (transformers' Mamba2 has no d_mlp branch): d_mlp > 0 (the
// silu(z0)·x0 columns of in_proj and out_proj), G = 2, in/out_proj biases, an untied head and a dt_limit that
// clamps on both sides. The fixtures (test_train_parity.cpp) check everything else against fp64 autograd.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "models/model.h"
#include "models/tiny_mamba2.h"
#include "ops/cross_entropy.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/params.h"

namespace llamba {
namespace {

TEST(Mamba2Backward, MatchesCentralDifferencesWithTheMlpBranch) {
  test::TinyMamba2Shape s;
  s.d_mlp = 8;
  s.n_groups = 2;
  s.d_state = 8;
  s.chunk = 8;
  s.tied = false;
  s.biases = true;
  s.dt_min = 0.01f;
  s.dt_max = 0.3f;
  auto image = train::read_writable(test::write_tiny_mamba2(s, 41, "backward_fd"));
  auto model = models::load_model(*image.file);
  train::ParameterSet params(*model);
  const int64_t B = 2, T = 20, V = model->info().n_vocab;
  core::Rng rng(5);
  std::vector<int32_t> tokens(B * T), targets(B * T);
  for (auto& t : tokens) t = (int32_t)rng.below(V);
  for (auto& t : targets) t = (int32_t)rng.below(V);
  ops::Context ctx(2);
  std::vector<float> logits(B * T * V);
  const core::TensorView lv = core::TensorView::contiguous(logits.data(), core::DType::kF32, {B * T, V});
  auto loss = [&] {
    model->forward_train(ctx, tokens, B, core::view_f32(logits, {B, T, V}));
    return ops::cross_entropy_forward(ctx, lv, targets);
  };
  auto cache = model->forward_train(ctx, tokens, B, core::view_f32(logits, {B, T, V}));
  core::Tensor dlogits = core::Tensor::zeros(core::DType::kF32, {B * T, V});
  ops::cross_entropy_backward(ctx, dlogits, lv, targets);
  params.zero_grad();
  model->backward(ctx, *cache, dlogits.view().reshape({B, T, V}), params.grads());

  // Directional derivative along a random direction d (zero outside `mask`):
  // (L(θ + h·d) − L(θ − h·d)) / 2h vs ⟨∇L, d⟩, which for d ~ N(0, I) has spread ‖∇L‖ (restricted to the mask).
  auto check = [&](train::Parameter& p, const std::function<bool(int64_t)>& mask, const std::string& what) {
    const int64_t n = p.value.numel();
    std::vector<float> d(n, 0.0f), saved(p.value.f32(), p.value.f32() + n);
    double analytic = 0, gnorm = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!mask(i)) continue;
      d[i] = (float)rng.normal();
      analytic += (double)p.grad.f32()[i] * d[i];
      gnorm += (double)p.grad.f32()[i] * p.grad.f32()[i];
    }
    // Steps large enough that the loss change dwarfs the fp32 forward's rounding (~1e-7 of L ≈ 5, scattered
    // over the logits), small enough for the curvature: 1e-3 for matrices, 1e-2 for vectors, 0.1 for A (whose
    // gradient is small: Δ ∈ [0.01, 0.3] scales it), keeping A ∈ [−16, −1] negative.
    const bool is_a = p.name.find("ssm_a") != std::string::npos;
    const double h = is_a ? 0.1 : p.value.shape.rank() == 1 ? 1e-2 : 1e-3;
    for (int64_t i = 0; i < n; ++i) p.value.f32()[i] = saved[i] + (float)(h * d[i]);
    const double lp = loss();
    for (int64_t i = 0; i < n; ++i) p.value.f32()[i] = saved[i] - (float)(h * d[i]);
    const double lm = loss();
    std::copy(saved.begin(), saved.end(), p.value.f32());
    const double numeric = (lp - lm) / (2 * h), err = std::fabs(numeric - analytic) / std::sqrt(gnorm);
    std::printf("%-36s analytic %+.6e numeric %+.6e err/|g| %.2e\n", what.c_str(), analytic, numeric, err);
    // Measured: <= 4e-3 (vectors: the curvature at h = 1e-2), <= 3e-4 for matrices; a wrong term is O(1).
    EXPECT_LE(err, 1e-2) << what;
    EXPECT_GT(gnorm, 0.0) << what;
  };
  const int64_t dm = s.d_mlp, D = s.d_model, di = s.n_heads * s.head_dim;
  for (auto& p : params.params()) {
    check(p, [](int64_t) { return true; }, p.name);
    // The d_mlp branch alone: rows [z0 | x0] of in_proj (and its bias), the first d_mlp columns of out_proj.
    if (p.name.find("ssm_in.weight") != std::string::npos)
      check(p, [&](int64_t i) { return i / D < 2 * dm; }, p.name + " [z0|x0]");
    if (p.name.find("ssm_in.bias") != std::string::npos)
      check(p, [&](int64_t i) { return i < 2 * dm; }, p.name + " [z0|x0]");
    if (p.name.find("ssm_out.weight") != std::string::npos)
      check(p, [&](int64_t i) { return i % (dm + di) < dm; }, p.name + " [d_mlp cols]");
  }
}

}  // namespace
}  // namespace llamba
