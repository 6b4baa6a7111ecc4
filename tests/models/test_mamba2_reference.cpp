// Mamba-2 against transformers' Mamba2ForCausalLM (PyTorch path, fp32; tools/reference/make_mamba2_fixtures.py).
// The saved HF checkpoint goes through `llamba convert`, then every tap is compared in forward order and the first
// diverging layer and tensor is reported: hidden.l, mixer_y.l, mixer_gated.l, mixer_out.l, final_hidden, logits;
// the per-layer conv/SSM states after the prompt; 6 decode steps (logits, states); a 5-token continuation chunk.
#include <gtest/gtest.h>

#include <cstdio>

#include "io/gguf.h"
#include "io/safetensors.h"
#include "models/mamba2/mamba2.h"
#include "reference_test_util.h"
#include "test_util.h"

namespace llamba {
namespace {

// The fixtures are fp32 runs whose distance to an independent fp64 run is recorded in their metadata
// (fp32_vs_fp64_rel: at most 7.1e-7 of each tensor's max |value|, logits 1.5e-7..3.6e-7). Ours is another fp32
// evaluation with other summation orders (chunked scan vs transformers' chunk scan, fp32 RMS sums), so the two
// differ by about twice that; states carry the error of up to 37 + 11 recurrent steps. 1e-5 relative to the
// tensor's max |ref| leaves > 10x margin and still catches any real mistake (a wrong norm grouping moves logits by
// ~0.4 of their scale, groups2's `ungrouped_norm_logits_diff`).
constexpr double kTol = 1e-5;

class Mamba2Reference : public ::testing::TestWithParam<std::string> {};

TEST_P(Mamba2Reference, EveryTapMatchesInOrder) {
  const std::string name = GetParam();
  const auto gguf = io::GgufFile::open(test::convert_reference_checkpoint("mamba2", name));
  models::mamba2::Mamba2Model model(gguf);
  test::ReferenceRun r(model, "mamba2", name, kTol);
  ASSERT_NO_FATAL_FAILURE(r.prefill());
  ASSERT_NO_FATAL_FAILURE(
      r.check_taps_in_order(test::forward_tap_order(r.L, {"hidden", "mixer_y", "mixer_gated", "mixer_out"})));
  ASSERT_NO_FATAL_FAILURE(r.check_states("state", {"conv", "ssm"}));
  ASSERT_NO_FATAL_FAILURE(r.check_decode());
  ASSERT_NO_FATAL_FAILURE(r.check_states("decode_state", {"conv", "ssm"}));

  // Continuation: E tokens at once from the decoded state (chunked scan from a carried state, conv over the
  // carried rows).
  const auto ext64 = r.ref.to_i64("extend_ids");
  const int64_t B = r.B, E = r.ref.tensor("extend_ids").size(1), V = r.V;
  const std::vector<int32_t> ext(ext64.begin(), ext64.end());
  std::vector<float> elog(B * E * V);
  model.forward(r.ctx, ext, B, r.states.ptrs, core::view_f32(elog, {B, E, V}), {.all_logits = true});
  const double ee = test::rel_max_error(elog.data(), r.ref.to_f32("extend_logits").f32(), B * E * V);
  EXPECT_LE(ee, kTol) << name << ": extend logits";
  ASSERT_NO_FATAL_FAILURE(r.check_states("extend_state", {"conv", "ssm"}));
  r.print_summary();
  std::printf("%s: extend logits relative error %.3g\n", name.c_str(), ee);
}

// A file written by ggml's `gguf` package the way llama.cpp's converter writes Mamba-2 (make_mamba2_gguf_fixture.py:
// gguf-py's key helpers and tensor-name map, (H, 1) ssm_a/ssm_d, (G, d_inner/G) ssm_norm) loads and matches the same
// reference as our own conversion: llama.cpp's spelling and shapes, not our transcription of them.
TEST(Mamba2Reference, LlamaCppLayoutFileMatches) {
  const auto gguf = io::GgufFile::open(test::fixture_path("mamba2/groups2.llamacpp.gguf"));
  const auto model = models::load_model(gguf);
  ASSERT_EQ(model->info().arch, models::Arch::kMamba2);
  const auto ref = io::SafetensorsFile::open(test::fixture_path("mamba2/groups2/reference.safetensors"));
  const auto ids64 = ref.to_i64("input_ids");
  const int64_t B = ref.tensor("input_ids").size(0), T = ref.tensor("input_ids").size(1), V = model->info().n_vocab;
  ops::Context ctx(2);
  models::FreshStates states(*model, B);
  std::vector<float> logits(B * T * V);
  const std::vector<int32_t> ids(ids64.begin(), ids64.end());
  model->forward(ctx, ids, B, states.ptrs, core::view_f32(logits, {B, T, V}), {.all_logits = true});
  const double err = test::rel_max_error(logits.data(), ref.to_f32("logits").f32(), B * T * V);
  EXPECT_LE(err, kTol);
  std::printf("groups2.llamacpp.gguf: logits relative error %.3g\n", err);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, Mamba2Reference,
                         ::testing::Values("tied_g1", "p_odd_untied", "groups2", "dt_limit", "short_t"));

}  // namespace
}  // namespace llamba

namespace llamba {
namespace {

// A logits view of the wrong shape is refused, before any state moves, with an error naming the shape wanted.
TEST(Mamba2Reference, WrongLogitsShapeThrows) {
  const auto gguf = io::GgufFile::open(test::fixture_path("mamba2/groups2.llamacpp.gguf"));
  const auto model = models::load_model(gguf);
  const int64_t V = model->info().n_vocab;
  ops::Context ctx(1);
  models::FreshStates states(*model, 1);
  const std::vector<int32_t> ids = {1, 2, 3};
  std::vector<float> logits(3 * V);
  try {
    model->forward(ctx, ids, 1, states.ptrs, core::view_f32(logits, {3, V}), {.all_logits = true});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(1, 3, " + std::to_string(V) + ")"), std::string::npos) << e.what();
  }
  EXPECT_EQ(states.ptrs[0]->n_past, 0);
  EXPECT_THROW(core::view_f32(logits, {1, 4, V}), Error);  // the buffer is too small for the view
}

}  // namespace
}  // namespace llamba
