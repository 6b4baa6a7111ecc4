// Mamba-2 mode equivalence on random tiny models (G = 1; G = 2 with dt_limit; P = 12 with d_mlp > 0 and biases;
// P = 64, N = 128): chunked prefill (chunk 1, 7, 64, T; T not a multiple) = recurrent = quadratic; prefill +
// teacher-forced decode = one forward; prefill -> decode -> prefill = one shot; snapshot/restore/fork/save-load =
// uninterrupted; batch of 2 = two singles; the d_mlp branch against a hand computation; state size bookkeeping.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "io/gguf.h"
#include "models/mamba2/mamba2.h"
#include "ops/rmsnorm.h"
#include "runtime/session.h"
#include "model_test_util.h"
#include "test_util.h"
#include "tiny_mamba2.h"

namespace llamba {
namespace {

using models::mamba2::Mamba2Model;
using models::mamba2::MixerForm;

// Every form computes the same recurrence in fp32 with different summation orders: per-position logits agree to a
// few eps·sqrt(T·N) of their scale (measured below 1e-6). 2e-5 relative to max |logit| leaves > 10x margin.
constexpr double kTol = 2e-5;

struct Case {
  const char* name;
  test::TinyMamba2Shape shape;
};

std::vector<Case> cases() {
  test::TinyMamba2Shape g1;  // H 4, P 8, N 16, G 1, tied
  test::TinyMamba2Shape g2;
  g2.n_groups = 2;
  g2.d_state = 8;
  g2.tied = false;
  g2.dt_min = 0.01f;  // clamps both ends of Δ ∈ ~(1e-4, 1)
  g2.dt_max = 0.4f;
  test::TinyMamba2Shape mlp;  // P = 12, d_mlp 16, in/out biases
  mlp.d_model = 24;
  mlp.head_dim = 12;
  mlp.d_state = 8;
  mlp.d_mlp = 16;
  mlp.biases = true;
  mlp.n_layers = 3;
  test::TinyMamba2Shape real;  // mamba2-130m's head shape: P 64, N 128 (D small, one layer)
  real.d_model = 64;
  real.n_heads = 2;
  real.head_dim = 64;
  real.d_state = 128;
  real.n_layers = 1;
  real.chunk = 256;
  return {{"g1", g1}, {"g2_dt_limit", g2}, {"p_odd_mlp", mlp}, {"p64_n128", real}};
}

class Mamba2Modes : public test::RecurrentModesTest<Mamba2Model, MixerForm> {
 protected:
  void SetUp() override {
    const Case c = cases()[GetParam()];
    load(test::write_tiny_mamba2(c.shape, 200 + GetParam(), c.name), 17 + GetParam());
  }
};

TEST_P(Mamba2Modes, ChunkedEqualsRecurrentEqualsQuadratic) {
  expect_forms_agree({{MixerForm::kQuadratic, "quadratic"}}, kTol);
}

TEST_P(Mamba2Modes, PrefillThenDecodeEqualsOneForward) { expect_prefill_then_decode_equals_one_forward(kTol); }

TEST_P(Mamba2Modes, PrefillDecodePrefillEqualsOneShot) { expect_prefill_decode_prefill_equals_one_shot(kTol); }

TEST_P(Mamba2Modes, SnapshotRestoreEqualsUninterrupted) {
  test::expect_snapshot_restore_equals_uninterrupted(*model_, ctx_, ids_, path_ + ".state");
}

TEST_P(Mamba2Modes, BatchOfTwoEqualsTwoSingles) { test::expect_batch_equals_singles(*model_, ctx_, ids_, kTol); }

TEST_P(Mamba2Modes, StateSize) {
  const auto& c = model_->config();
  auto st = model_->new_state();
  EXPECT_EQ(st->bytes(), model_->state_bytes(0));
  EXPECT_EQ(model_->state_bytes(0),
            c.n_layers * (3 * (c.d_inner + 2 * c.n_groups * c.d_state) + c.n_heads * c.head_dim * c.d_state) * 4);
}

// mamba_ssm's d_mlp > 0 layout: in_proj rows [z0 | x0 | z | xBC | dt], out_proj input [silu(z0)·x0 | normed y].
// Layer 0's output rebuilt in double from its normed input and the model's own normed-y tap.
class Mamba2MlpBranch : public Mamba2Modes {};

TEST_P(Mamba2MlpBranch, MatchesHandComputation) {
  const auto& c = model_->config();
  ASSERT_GT(c.d_mlp, 0) << "instantiate this test only on shapes with d_mlp";
  std::map<std::string, std::vector<float>> taps;
  models::Observer obs = [&](std::string_view n, int layer, const core::TensorView& t) {
    if (layer == 0) taps[std::string(n)].assign(t.f32(), t.f32() + t.numel());
  };
  auto st = model_->new_state();
  const int64_t T = 9, D = c.d_model, dm = c.d_mlp, di = c.d_inner;
  run(*st, 0, T, MixerForm::kChunked, 4, &obs);
  core::Tensor h = core::Tensor::from_f32({T, D}, taps["hidden"]);
  core::Tensor u = core::Tensor::zeros(core::DType::kF32, {T, D});
  ops::rmsnorm_forward(ctx_, u, h, file_->tensor("blk.0.attn_norm.weight"), (float)c.norm_eps);
  const core::TensorView win = file_->tensor("blk.0.ssm_in.weight"), bin = file_->tensor("blk.0.ssm_in.bias");
  const core::TensorView wout = file_->tensor("blk.0.ssm_out.weight"), bout = file_->tensor("blk.0.ssm_out.bias");
  auto proj = [&](int64_t t, int64_t row) {
    double s = bin.f32()[row];
    for (int64_t k = 0; k < D; ++k) s += (double)win.f32()[row * D + k] * u.f32()[t * D + k];
    return s;
  };
  std::vector<double> want(T * D);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> cat(dm + di);
    for (int64_t j = 0; j < dm; ++j) {
      const double z0 = proj(t, j), x0 = proj(t, dm + j);
      cat[j] = z0 / (1.0 + std::exp(-z0)) * x0;
    }
    for (int64_t j = 0; j < di; ++j) cat[dm + j] = taps["mixer_gated"][t * di + j];
    for (int64_t o = 0; o < D; ++o) {
      double s = bout.f32()[o];
      for (int64_t j = 0; j < dm + di; ++j) s += (double)wout.f32()[o * (dm + di) + j] * cat[j];
      want[t * D + o] = s;
    }
  }
  EXPECT_LE(test::rel_max_error(taps["mixer_out"].data(), want.data(), T * D), 1e-5);

  // The SSM part must not see the MLP rows: the same file with rows [0, 2·d_mlp) of ssm_in (and columns
  // [0, d_mlp) of ssm_out) removed gives the same scan output and gated norm (z, xBC and dt offsets).
  io::GgufWriter w;
  for (const auto& [k, v] : file_->metadata()) w.set(k, v);
  for (const auto& info : file_->tensors()) {
    const core::TensorView t = file_->tensor(info);
    if (info.name.find(".ssm_in.") != std::string::npos) {
      w.add_tensor(info.name, core::Tensor::copy_of(t.slice(0, 2 * dm, t.size(0))));
    } else if (info.name.find(".ssm_out.weight") != std::string::npos) {
      w.add_tensor(info.name, core::Tensor::copy_of(t.slice(1, dm, dm + di)));
    } else {
      w.add_tensor(info.name, t);
    }
  }
  const std::string path_b = path_ + ".no_mlp.gguf";
  w.write(path_b);
  const auto file_b = io::GgufFile::open(path_b);
  Mamba2Model model_b(file_b);
  ASSERT_EQ(model_b.config().d_mlp, 0);
  const auto taps_a = taps;
  auto st_b = model_b.new_state();
  models::SequenceState* sp = st_b.get();
  std::vector<float> logits_b(T * V_);
  model_b.forward_with(ctx_, std::span(ids_).first(T), 1, {&sp, 1}, core::view_f32(logits_b, {1, T, V_}),
                       {.all_logits = true, .observer = &obs}, MixerForm::kChunked, 4);
  for (const char* k : {"mixer_y", "mixer_gated"})
    EXPECT_EQ(taps[k], taps_a.at(k)) << k << ": same arithmetic on the same values must be bit-identical";
}

INSTANTIATE_TEST_SUITE_P(Shapes, Mamba2Modes, ::testing::Values(0, 1, 2, 3),
                         [](const auto& info) { return std::string(cases()[info.param].name); });
INSTANTIATE_TEST_SUITE_P(ShapesWithMlp, Mamba2MlpBranch, ::testing::Values(2),
                         [](const auto& info) { return std::string(cases()[info.param].name); });

}  // namespace
}  // namespace llamba
