// GateLoop mode equivalence on random tiny models, for every transition variant the training experiment compares
// (polar complex / polar real-signed / magphase / real / fixed complex / fixed real; scalar and vector gates;
// max-headed; sub-LN, no gate, identity out projection, SwiGLU FFN): chunked prefill (chunk 1, 7, 64, T; T not a
// multiple) = recurrent = quadratic = scan = token-by-token step; prefill + decode = one forward; prefill ->
// decode -> prefill = one shot; snapshot/restore and save/load = uninterrupted; batch of 2 = two singles.
#include <gtest/gtest.h>

#include <cmath>

#include "io/gguf.h"
#include "models/gateloop/gateloop.h"
#include "runtime/session.h"
#include "model_test_util.h"
#include "test_util.h"
#include "tiny_gateloop.h"

namespace llamba {
namespace {

using models::gateloop::Config;
using models::gateloop::FfnKind;
using models::gateloop::GateLoopModel;
using models::gateloop::MixerForm;
using models::gateloop::Transition;
using ops::GateKind;

// Every form computes the same recurrence in fp32 with different summation orders (and the chunked/quadratic
// cpu paths rotate by phases accumulated in fp64); per-position logits agree to a few eps·sqrt(T·N) of their
// scale. Measured worst 5.9e-7 (fixed_complex, printed); 2e-5, the Llamba bound, leaves ~30x margin.
constexpr double kTol = 2e-5;

struct Case {
  const char* name;
  Config c;
};

std::vector<Case> cases() {
  const auto cfg = [](Transition t, bool cx, GateKind g, int64_t h) { return test::tiny_gateloop_config(t, cx, g, h); };
  Case polar_heads{"polar_heads", cfg(Transition::kPolar, true, GateKind::kScalar, 4)};
  polar_heads.c.sub_norm = true;
  Case polar_max{"polar_max", cfg(Transition::kPolar, true, GateKind::kScalar, 32)};
  Case polar_signed{"polar_signed", cfg(Transition::kPolar, false, GateKind::kScalar, 4)};
  Case magphase_vector{"magphase_vector", cfg(Transition::kMagPhase, true, GateKind::kVector, 4)};
  Case real_scalar{"real_scalar", cfg(Transition::kReal, false, GateKind::kScalar, 4)};
  real_scalar.c.ffn = FfnKind::kSwiglu;
  real_scalar.c.ffn_bias = false;
  Case real_vector{"real_vector", cfg(Transition::kReal, false, GateKind::kVector, 8)};
  real_vector.c.output_gate = false;
  real_vector.c.out_proj = false;
  Case fixed_complex{"fixed_complex", cfg(Transition::kFixed, true, GateKind::kVector, 4)};
  Case fixed_real{"fixed_real", cfg(Transition::kFixed, false, GateKind::kScalar, 4)};
  return {polar_heads, polar_max, polar_signed, magphase_vector, real_scalar, real_vector, fixed_complex, fixed_real};
}

class GateLoopModes : public test::RecurrentModesTest<GateLoopModel, MixerForm> {
 protected:
  void SetUp() override {
    const Case c = cases()[GetParam()];
    load(test::write_tiny_gateloop(c.c, 300 + GetParam(), c.name), 17 + GetParam());
  }
};

TEST_P(GateLoopModes, AllFormsAgree) {
  expect_forms_agree({{MixerForm::kQuadratic, "quadratic"}, {MixerForm::kScan, "scan"}, {MixerForm::kStep, "step"}},
                     kTol);
}

// The decode steps go through forward(), i.e. the step op (GateLoop's decode form).
TEST_P(GateLoopModes, PrefillThenDecodeEqualsOneForward) { expect_prefill_then_decode_equals_one_forward(kTol); }

TEST_P(GateLoopModes, PrefillDecodePrefillEqualsOneShot) { expect_prefill_decode_prefill_equals_one_shot(kTol); }

TEST_P(GateLoopModes, SnapshotRestoreEqualsUninterrupted) {
  test::expect_snapshot_restore_equals_uninterrupted(*model_, ctx_, ids_, path_ + ".state");
}

TEST_P(GateLoopModes, BatchOfTwoEqualsTwoSingles) { test::expect_batch_equals_singles(*model_, ctx_, ids_, kTol); }

TEST_P(GateLoopModes, StateSizeAndTensorList) {
  const Config& c = model_->config();
  auto st = model_->new_state();
  EXPECT_EQ(st->bytes(), model_->state_bytes(1000));
  EXPECT_EQ(model_->state_bytes(1), c.n_layers * (c.has_phase() ? 2 : 1) * c.n_heads * c.head_dim * c.head_dim * 4);
  int64_t n = 0;
  model_->for_each_tensor([&](const std::string& name, const core::TensorView&) {
    EXPECT_NE(file_->find_tensor(name), nullptr) << name;
    ++n;
  });
  EXPECT_EQ(n, (int64_t)file_->tensors().size()) << "every tensor of the file is listed exactly once";
}

TEST(GateLoopInit, FollowsTheDocumentedLaws) {
  // lucidrains/PyTorch defaults for the data-controlled variants; spread constants for the fixed one (init.cpp).
  for (const Transition t : {Transition::kPolar, Transition::kFixed}) {
    Config c = test::tiny_gateloop_config(t, true, GateKind::kScalar, 4);
    io::GgufWriter w;
    models::gateloop::write_random_init(c, 5, w);
    const io::GgufFile f = io::GgufFile::parse(w.write_to_memory(), "init");
    GateLoopModel m(f);  // loads: every key and tensor present
    const auto max_abs = [&](const char* name) {
      const core::TensorView v = f.tensor(name);
      double mx = 0;
      for (int64_t i = 0; i < v.numel(); ++i) mx = std::max(mx, (double)std::fabs(v.f32()[i]));
      return mx;
    };
    EXPECT_LE(max_abs("blk.0.gl_q.weight"), 1 / std::sqrt(32.0));  // U(±1/√in)
    EXPECT_GT(max_abs("blk.0.gl_q.weight"), 0.9 / std::sqrt(32.0));
    EXPECT_LE(max_abs("blk.1.ffn_down.weight"), 1 / std::sqrt(64.0));
    EXPECT_EQ(max_abs("blk.0.attn_norm.weight"), 1.0);
    EXPECT_GT(max_abs("token_embd.weight"), 3.0);  // N(0, 1) over 3072 values
    if (t == Transition::kFixed) {
      EXPECT_EQ(f.find_tensor("blk.0.gl_a.weight"), nullptr);
      const float* b = f.tensor("blk.0.gl_a.bias").f32();  // [logit γ (4) | phase (4)]
      EXPECT_NEAR(1 / (1 + std::exp(-b[0])), 0.5, 1e-6);
      EXPECT_NEAR(1 / (1 + std::exp(-b[3])), 1 - std::exp2(-8.0), 1e-6);
      for (int j = 4; j < 8; ++j) EXPECT_LE(std::fabs(b[j]), M_PI);
    } else {
      EXPECT_LE(max_abs("blk.0.gl_a.bias"), 1 / std::sqrt(32.0));
    }
  }
}

TEST(GateLoopInit, FromTrainingJson) {
  io::GgufWriter w;
  models::gateloop::write_init(nlohmann::json{{"d_model", 16}, {"n_layers", 1}, {"n_heads", 4},
                                              {"transition", "fixed"}, {"gate_kind", "vector"}},
                               50, 1, w);
  const io::GgufFile f = io::GgufFile::parse(w.write_to_memory(), "json");
  GateLoopModel m(f);
  EXPECT_EQ(m.config().transition, Transition::kFixed);
  EXPECT_EQ(m.config().n_gates(), 16);
  EXPECT_EQ(m.info().n_vocab, 50);
  EXPECT_EQ(m.config().ffn_dim, 64);
  io::GgufWriter bad;
  EXPECT_THROW(models::gateloop::write_init(nlohmann::json{{"d_modle", 16}}, 50, 1, bad), Error);  // typo
  EXPECT_THROW(models::gateloop::write_init(nlohmann::json{{"transition", "real"}, {"complex", true}}, 50, 1, bad),
               Error);
}

INSTANTIATE_TEST_SUITE_P(Variants, GateLoopModes, ::testing::Range(0, (int)cases().size()),
                         [](const auto& info) { return std::string(cases()[info.param].name); });

}  // namespace
}  // namespace llamba
