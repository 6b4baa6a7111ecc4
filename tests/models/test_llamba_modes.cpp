// Llamba mode equivalence on random tiny models (G = H and G < H, P a power of two and not): chunked prefill
// (chunk 1, 7, 64, T; T not a multiple) = recurrent = quadratic; prefill + teacher-forced decode = one forward;
// prefill -> decode -> prefill = one shot; snapshot at t, continue, restore, continue = uninterrupted; batch of 2
// = two singles; the materialized mixer matrix is causal.
#include <gtest/gtest.h>

#include "io/gguf.h"
#include "models/llamba/llamba.h"
#include "runtime/session.h"
#include "model_test_util.h"
#include "test_util.h"
#include "tiny_llamba.h"

namespace llamba {
namespace {

using models::llamba::LlambaModel;
using models::llamba::MixerForm;

// Every form computes the same recurrence in fp32 with different summation orders: per-position logits agree to
// a few eps·sqrt(T·N) of their scale. 2e-5 relative to max |logit| leaves ~10x margin over what is measured.
constexpr double kTol = 2e-5;

struct Case {
  const char* name;
  test::TinyLlambaShape shape;
};

std::vector<Case> cases() {
  test::TinyLlambaShape g_eq_h;
  g_eq_h.n_groups = 4;
  test::TinyLlambaShape g_lt_h;  // default: H 4, G 2
  test::TinyLlambaShape p_odd;   // P = 12
  p_odd.d_model = 48;
  p_odd.d_inner = 48;
  p_odd.tied = false;
  return {{"g_eq_h", g_eq_h}, {"g_lt_h", g_lt_h}, {"p_odd", p_odd}};
}

class LlambaModes : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    const Case c = cases()[GetParam()];
    path_ = test::write_tiny_llamba(c.shape, 100 + GetParam(), c.name);
    file_ = std::make_unique<io::GgufFile>(io::GgufFile::open(path_));
    model_ = std::make_unique<LlambaModel>(*file_);
    V_ = model_->info().n_vocab;
    core::Rng rng(7 + GetParam());
    for (int i = 0; i < 71; ++i) ids_.push_back((int32_t)rng.below(V_));
  }
  // Logits (T, V) of ids[begin, end) continuing `state`, with the given mixer form.
  std::vector<float> run(models::SequenceState& st, int64_t begin, int64_t end, MixerForm form, int64_t chunk) {
    std::vector<float> out((end - begin) * V_);
    models::SequenceState* sp = &st;
    models::ForwardOptions o;
    o.all_logits = true;
    model_->forward_with(pool_, std::span(ids_).subspan(begin, end - begin), 1, {&sp, 1}, out.data(), o, form, chunk);
    return out;
  }
  std::vector<float> one_shot() {
    auto st = model_->new_state();
    return run(*st, 0, ids_.size(), MixerForm::kRecurrent, 1);
  }
  std::string path_;
  std::unique_ptr<io::GgufFile> file_;
  std::unique_ptr<LlambaModel> model_;
  core::ThreadPool pool_{2};
  std::vector<int32_t> ids_;
  int64_t V_ = 0;
};

TEST_P(LlambaModes, ChunkedEqualsRecurrentEqualsQuadratic) {
  const auto ref = one_shot();
  const int64_t T = ids_.size();
  for (int64_t chunk : {int64_t(1), int64_t(7), int64_t(64), T}) {
    auto st = model_->new_state();
    const auto got = run(*st, 0, T, MixerForm::kChunked, chunk);
    EXPECT_LE(test::rel_max_error(got.data(), ref.data(), ref.size()), kTol) << "chunk " << chunk;
  }
  auto st = model_->new_state();
  const auto quad = run(*st, 0, T, MixerForm::kQuadratic, 0);
  EXPECT_LE(test::rel_max_error(quad.data(), ref.data(), ref.size()), kTol) << "quadratic";
}

TEST_P(LlambaModes, PrefillThenDecodeEqualsOneForward) {
  const auto ref = one_shot();
  const int64_t T = ids_.size(), split = 29;
  auto st = model_->new_state();
  auto got = run(*st, 0, split, MixerForm::kChunked, 7);
  for (int64_t t = split; t < T; ++t) {  // teacher-forced single-token decode
    const auto step = run(*st, t, t + 1, MixerForm::kRecurrent, 1);
    got.insert(got.end(), step.begin(), step.end());
  }
  EXPECT_LE(test::rel_max_error(got.data(), ref.data(), ref.size()), kTol);
}

TEST_P(LlambaModes, PrefillDecodePrefillEqualsOneShot) {
  // Includes a continuation shorter than the conv window (2 tokens), so the conv state spans the boundary.
  const auto ref = one_shot();
  const int64_t T = ids_.size();
  auto st = model_->new_state();
  std::vector<float> got;
  const std::pair<int64_t, int64_t> pieces[] = {{0, 2}, {2, 3}, {3, 20}, {20, 21}, {21, 22}, {22, 50}, {50, T}};
  for (auto [b, e] : pieces) {
    const auto part = run(*st, b, e, e - b == 1 ? MixerForm::kRecurrent : MixerForm::kChunked, 16);
    got.insert(got.end(), part.begin(), part.end());
  }
  EXPECT_LE(test::rel_max_error(got.data(), ref.data(), ref.size()), kTol);
  EXPECT_EQ(st->n_past, T);
}

TEST_P(LlambaModes, SnapshotRestoreEqualsUninterrupted) {
  test::expect_snapshot_restore_equals_uninterrupted(*model_, pool_, ids_, path_ + ".state");
}

TEST_P(LlambaModes, BatchOfTwoEqualsTwoSingles) { test::expect_batch_equals_singles(*model_, pool_, ids_, kTol); }

TEST_P(LlambaModes, MaterializedMatrixIsCausal) {
  // M's values are checked against the reference implementation in test_llamba_reference (mixer_matrix.0) and
  // M·x against the recurrence in test_mixer_matrix; here: the model's layer produces a lower-triangular M.
  const auto& c = model_->config();
  const int64_t T = 23;
  core::Rng rng(9);
  core::Tensor u = core::Tensor::from_f32({T, c.d_model}, test::randn(rng, T * c.d_model));
  core::Tensor m = core::Tensor::zeros(core::DType::kF32, {c.n_heads, T, T});
  model_->mixer_matrix(pool_, 0, u, m);
  for (int64_t h = 0; h < c.n_heads; ++h)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t s = t + 1; s < T; ++s) ASSERT_EQ(m.f32()[(h * T + t) * T + s], 0.0f) << "not causal";
}

INSTANTIATE_TEST_SUITE_P(Shapes, LlambaModes, ::testing::Values(0, 1, 2),
                         [](const auto& info) { return std::string(cases()[info.param].name); });

}  // namespace
}  // namespace llamba
