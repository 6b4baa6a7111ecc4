// Llamba against the reference implementation of cartesia's LlambaLMHeadModel (tools/reference/
// make_llamba_fixtures.py: tiny random checkpoints in the exact cartesia HF layout). The checkpoint goes through
// `llamba convert`, then every tap is compared in order and the first diverging layer and tensor is reported:
// hidden.l, mixer_out.l, final_hidden, logits, the per-layer conv/SSM states after prefill, 6 decode steps
// (logits and states) and layer 0's materialized mixer matrix.
#include <gtest/gtest.h>

#include "io/gguf.h"
#include "models/llamba/llamba.h"
#include "ops/rmsnorm.h"
#include "reference_test_util.h"
#include "test_util.h"

namespace llamba {
namespace {

// The fixtures are fp32 runs whose own distance to an fp64 run is recorded in their metadata (logits up to
// 1.3e-5 absolute for |logit| up to 45, i.e. ~3e-7..1e-5 relative); ours has the same kind of error with another
// summation order. 5e-5 relative to the tensor's max |ref| covers both with margin.
constexpr double kTol = 5e-5;

class LlambaReference : public ::testing::TestWithParam<std::string> {};

TEST_P(LlambaReference, EveryTapMatchesInOrder) {
  const std::string name = GetParam();
  const auto gguf = io::GgufFile::open(test::convert_reference_checkpoint("llamba", name));
  models::llamba::LlambaModel model(gguf);
  test::ReferenceRun r(model, "llamba", name, kTol);
  ASSERT_NO_FATAL_FAILURE(r.prefill());
  ASSERT_NO_FATAL_FAILURE(r.check_taps_in_order(test::forward_tap_order(r.L, {"hidden", "mixer_out"})));
  ASSERT_NO_FATAL_FAILURE(r.check_states("state", {"conv", "ssm"}));
  ASSERT_NO_FATAL_FAILURE(r.check_decode());
  ASSERT_NO_FATAL_FAILURE(r.check_states("decode_state", {"conv", "ssm"}));
  r.print_summary();

  // Layer 0's materialized matrix on its normalized input (hidden.0 through input_layernorm).
  const core::Tensor h0 = r.ref.to_f32("hidden.0");
  const auto& c = model.config();
  const core::Tensor want_m = r.ref.to_f32("mixer_matrix.0");
  for (int64_t b = 0; b < r.B; ++b) {
    core::Tensor u = core::Tensor::zeros(core::DType::kF32, {r.T, c.d_model});
    const core::TensorView hb = h0.view().select(0, b);
    ops::rmsnorm_forward(r.ctx, u, hb, gguf.tensor("blk.0.attn_norm.weight"), (float)c.block_eps);
    core::Tensor m = core::Tensor::zeros(core::DType::kF32, {c.n_heads, r.T, r.T});
    model.mixer_matrix(r.ctx, 0, u, m);
    const double err = test::rel_max_error(m.f32(), want_m.f32() + b * m.numel(), m.numel());
    EXPECT_LE(err, kTol) << name << ": mixer_matrix.0 row " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, LlambaReference, ::testing::Values("g_eq_h", "g_lt_h", "p_odd", "short_t"));

}  // namespace
}  // namespace llamba
