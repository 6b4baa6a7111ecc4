// GateLoop backward against central differences of the fp32 training forward, per parameter tensor, over the
// Config variants the PyTorch fixtures (test_train_parity.cpp) do not all reach: every transition (polar complex
// and real, magphase, real, fixed), scalar and vector gates, max-headed, sub-LN, no output gate, no out
// projection, swiglu FFN, tied head, several chunks per sequence; in both training modes (train_recurrence
// recurrent and chunked), which also agree with each other. Also: transition_grad_scale scales exactly the
// gradient into the transition.
#include <gtest/gtest.h>

#include <cmath>

#include "models/gateloop/gateloop.h"
#include "models/model.h"
#include "models/tiny_gateloop.h"
#include "ops/cross_entropy.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/params.h"

namespace llamba {
namespace {

using models::gateloop::Config;
using models::gateloop::FfnKind;
using models::gateloop::Transition;

struct Variant {
  const char* name;
  Config c;
  bool tied = false;
};

std::vector<Variant> variants() {
  using ops::GateKind;
  std::vector<Variant> v;
  auto add = [&](const char* name, Transition t, bool cplx, GateKind gk, int64_t heads) -> Variant& {
    v.push_back({name, test::tiny_gateloop_config(t, cplx, gk, heads)});
    Config& c = v.back().c;
    c.d_model = 16;
    c.d_inner = 16;
    c.ffn_dim = 24;
    c.n_vocab = 40;
    c.head_dim = c.d_inner / heads;
    c.chunk_size = 8;  // T = 20: three chunks, the last one partial
    return v.back();
  };
  {
    Variant& x = add("polar complex, 4 heads, sub-LN, d_inner 24", Transition::kPolar, true, GateKind::kScalar, 4);
    x.c.d_inner = 24;
    x.c.head_dim = 6;
    x.c.sub_norm = true;
  }
  add("polar real (ablate_complex), max-headed", Transition::kPolar, false, GateKind::kScalar, 16);
  {
    Variant& x = add("magphase vector, swiglu, tied, no gate", Transition::kMagPhase, true, GateKind::kVector, 4);
    x.c.ffn = FfnKind::kSwiglu;
    x.c.ffn_bias = false;
    x.c.output_gate = false;
    x.tied = true;
  }
  {
    Variant& x = add("real scalar, no gate, no out proj", Transition::kReal, false, GateKind::kScalar, 2);
    x.c.output_gate = false;
    x.c.out_proj = false;
  }
  add("fixed complex vector", Transition::kFixed, true, GateKind::kVector, 4);
  add("fixed real scalar", Transition::kFixed, false, GateKind::kScalar, 8);
  return v;
}

struct Loaded {
  train::WritableModelFile image;
  std::unique_ptr<models::Model> model;
  std::unique_ptr<train::ParameterSet> params;
};

Loaded load(const Variant& v, const std::string& tag) {
  Loaded r;
  r.image = train::read_writable(test::write_tiny_gateloop(v.c, 17, tag, v.tied));
  r.model = models::load_model(*r.image.file);
  r.params = std::make_unique<train::ParameterSet>(*r.model);
  if (v.c.transition == Transition::kPolar && !v.c.complex) {
    // a = σ(|re|)·sign(re) jumps from −σ(0) to +σ(0) where re crosses 0: a finite difference across the jump
    // measures the jump, not the derivative. Keep every re = u·w_a + b_a at |re| >= ~1.7 (|u·w_a| <= ~2.3
    // before the ×0.1), far from any perturbation of the check.
    for (auto& p : r.params->params()) {
      float* x = p.value.f32();
      if (p.name.find("gl_a.weight") != std::string::npos)
        for (int64_t i = 0; i < p.value.numel(); ++i) x[i] *= 0.1f;
      if (p.name.find("gl_a.bias") != std::string::npos)
        for (int64_t j = 0, n = p.value.numel(); j < n; ++j) x[j] = (j % 2 ? -1.0f : 1.0f) * (2.0f + 5.0f * j / n);
    }
  }
  return r;
}

// Loss and gradients on a fixed random batch.
struct Batch {
  int64_t B = 2, T = 20;
  std::vector<int32_t> tokens, targets;
  explicit Batch(int64_t V) {
    core::Rng rng(5);
    for (int64_t i = 0; i < B * T; ++i) {
      tokens.push_back((int32_t)rng.below(V));
      targets.push_back((int32_t)rng.below(V));
    }
  }
};

double loss_of(models::Model& m, const Batch& b, ops::Context& ctx, train::ParameterSet* grads) {
  const int64_t V = m.info().n_vocab;
  std::vector<float> logits(b.B * b.T * V);
  const core::TensorView lv = core::TensorView::contiguous(logits.data(), core::DType::kF32, {b.B * b.T, V});
  auto cache = m.forward_train(ctx, b.tokens, b.B, core::view_f32(logits, {b.B, b.T, V}));
  const double l = ops::cross_entropy_forward(ctx, lv, b.targets);
  if (grads) {
    core::Tensor dlogits = core::Tensor::zeros(core::DType::kF32, {b.B * b.T, V});
    ops::cross_entropy_backward(ctx, dlogits, lv, b.targets);
    grads->zero_grad();
    m.backward(ctx, *cache, dlogits.view().reshape({b.B, b.T, V}), grads->grads());
  }
  return l;
}

TEST(GateLoopBackward, MatchesCentralDifferencesForEveryVariant) {
  ops::Context ctx(2);
  for (Variant v : variants())
  for (auto mode : {ops::RecurrenceMode::kRecurrent, ops::RecurrenceMode::kChunked}) {
    v.c.train_recurrence = mode;
    SCOPED_TRACE(testing::Message() << v.name << ", " << ops::recurrence_mode_name(mode));
    Loaded r = load(v, "backward_fd");
    const Batch batch(r.model->info().n_vocab);
    loss_of(*r.model, batch, ctx, r.params.get());
    core::Rng rng(11);
    double worst = 0;
    // Directional derivative along a random direction d per tensor: (L(θ + h·d) − L(θ − h·d)) / 2h vs ⟨∇L, d⟩,
    // which for d ~ N(0, I) has spread ‖∇L‖, the error's unit.
    for (auto& p : r.params->params()) {
      const int64_t n = p.value.numel();
      std::vector<float> d(n), saved(p.value.f32(), p.value.f32() + n);
      double analytic = 0, gnorm = 0;
      for (int64_t i = 0; i < n; ++i) {
        d[i] = (float)rng.normal();
        analytic += (double)p.grad.f32()[i] * d[i];
        gnorm += (double)p.grad.f32()[i] * p.grad.f32()[i];
      }
      // Steps: 1e-3 for matrices, 3e-3 for vectors (norm gains, biases; the phase biases have the strongest
      // curvature: the error measured at 1e-2 fell 10× per 3× smaller step, i.e. it was the h² term).
      const double h = p.value.shape.rank() == 1 ? 3e-3 : 1e-3;
      for (int64_t i = 0; i < n; ++i) p.value.f32()[i] = saved[i] + (float)(h * d[i]);
      const double lp = loss_of(*r.model, batch, ctx, nullptr);
      for (int64_t i = 0; i < n; ++i) p.value.f32()[i] = saved[i] - (float)(h * d[i]);
      const double lm = loss_of(*r.model, batch, ctx, nullptr);
      std::copy(saved.begin(), saved.end(), p.value.f32());
      const double numeric = (lp - lm) / (2 * h), abs_err = std::fabs(numeric - analytic);
      // A wrong or missing term is O(1) of ‖∇L‖. Besides curvature (< 1e-3·‖∇L‖ here), the fp32 forwards'
      // rounding makes lp − lm uncertain by ~1e-8 (measured on the tiny-gradient tensors, ‖∇L‖ ~ 1e-4, where
      // it dominates): an absolute 1e-7 / 2h on top of 1e-2·‖∇L‖.
      const double bound = 1e-2 * std::sqrt(gnorm) + 1e-7 / (2 * h), err = abs_err / bound;
      worst = std::max(worst, err);
      EXPECT_LE(err, 1.0) << p.name << ": analytic " << analytic << " numeric " << numeric;
      EXPECT_GT(gnorm, 0.0) << p.name;
    }
    std::printf("  %-46s %-9s %2zu tensors, worst |directional error| / bound %.2e\n", v.name,
                ops::recurrence_mode_name(mode), r.params->params().size(), worst);
  }
}

// The two training modes compute the same gradients (three chunks of 8, the last partial): both fp32, so they
// differ by rounding only. Chunked sums over a chunk at once where the recurrence steps; through ~10 ops and
// B·T = 40 positions that is ~1e-6 of each tensor's largest gradient (measured 5e-7 … 7e-6, the worst in the
// real/no-out-projection variant); 5e-5 bounds it.
TEST(GateLoopBackward, ChunkedAndRecurrentGradientsAgree) {
  ops::Context ctx(2);
  for (Variant v : variants()) {
    SCOPED_TRACE(v.name);
    v.c.train_recurrence = ops::RecurrenceMode::kRecurrent;
    Loaded rec = load(v, "modes_rec");
    v.c.train_recurrence = ops::RecurrenceMode::kChunked;
    Loaded chk = load(v, "modes_chunked");
    const Batch batch(rec.model->info().n_vocab);
    const double l_rec = loss_of(*rec.model, batch, ctx, rec.params.get());
    const double l_chk = loss_of(*chk.model, batch, ctx, chk.params.get());
    EXPECT_NEAR(l_chk, l_rec, 1e-6 * l_rec);
    double worst = 0;
    for (size_t i = 0; i < rec.params->params().size(); ++i) {
      const auto& a = rec.params->params()[i];
      const auto& b = chk.params->params()[i];
      const double err = test::rel_max_error(b.grad.f32(), a.grad.f32(), a.grad.numel());
      EXPECT_LE(err, 5e-5) << a.name;
      worst = std::max(worst, err);
    }
    std::printf("  %-46s chunked vs recurrent: loss %.2e, worst gradient %.2e\n", v.name,
                std::fabs(l_chk - l_rec) / l_rec, worst);
  }
}

TEST(GateLoopBackward, TransitionGradScaleScalesOnlyTheTransition) {
  Variant v = variants()[0];
  v.c.n_layers = 1;  // one layer: only gl_a (and its bias) sees the scale, nothing upstream is a parameter...
  ops::Context ctx(2);
  Loaded full = load(v, "grad_scale_1");
  v.c.transition_grad_scale = 0.5;
  Loaded half = load(v, "grad_scale_half");
  const Batch batch(full.model->info().n_vocab);
  loss_of(*full.model, batch, ctx, full.params.get());
  loss_of(*half.model, batch, ctx, half.params.get());
  for (size_t i = 0; i < full.params->params().size(); ++i) {
    const auto& a = full.params->params()[i];
    const auto& b = half.params->params()[i];
    ASSERT_EQ(a.name, b.name);
    const bool transition = a.name.find("gl_a.") != std::string::npos;
    // ...except attn_norm and token_embd, which also get the (scaled) path through z: they must differ.
    const bool upstream = a.name.find("attn_norm") != std::string::npos || a.name == "token_embd.weight";
    int64_t n_diff = 0;
    for (int64_t j = 0; j < a.grad.numel(); ++j) {
      const float want = transition ? 0.5f * a.grad.f32()[j] : a.grad.f32()[j];
      if (transition || !upstream) {
        EXPECT_EQ(b.grad.f32()[j], want) << a.name << "[" << j << "]";  // ×0.5 is exact in fp32
      }
      n_diff += b.grad.f32()[j] != a.grad.f32()[j];
    }
    if (upstream || transition) {
      EXPECT_GT(n_diff, 0) << a.name;
    }
  }
}

}  // namespace
}  // namespace llamba
