// Llamba against the reference implementation of cartesia's LlambaLMHeadModel (tools/reference/
// make_llamba_fixtures.py: tiny random checkpoints in the exact cartesia HF layout). The checkpoint goes through
// `llamba convert`, then every tap is compared in order and the first diverging layer and tensor is reported:
// hidden.l, mixer_out.l, final_hidden, logits, the per-layer conv/SSM states after prefill, 6 decode steps
// (logits and states) and layer 0's materialized mixer matrix.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "io/gguf.h"
#include "io/hf_checkpoint.h"
#include "io/safetensors.h"
#include "models/convert.h"
#include "models/llamba/llamba.h"
#include "ops/rmsnorm.h"
#include "test_util.h"

namespace llamba {
namespace {

// The fixtures are fp32 runs whose own distance to an fp64 run is recorded in their metadata (logits up to
// 1.3e-5 absolute for |logit| up to 45, i.e. ~3e-7..1e-5 relative); ours has the same kind of error with another
// summation order. 5e-5 relative to the tensor's max |ref| covers both with margin.
constexpr double kTol = 5e-5;

class LlambaReference : public ::testing::TestWithParam<std::string> {};

std::string convert(const std::string& name) {
  const auto ckpt = io::HfCheckpoint::open(test::fixture_path("llamba/" + name));
  io::GgufWriter w;
  models::convert_hf(ckpt, {}, w);
  const std::string out = test::temp_path("llamba_ref_" + name + ".gguf").string();
  w.write(out);
  return out;
}

TEST_P(LlambaReference, EveryTapMatchesInOrder) {
  const std::string name = GetParam();
  const auto gguf = io::GgufFile::open(convert(name));
  models::llamba::LlambaModel model(gguf);
  const auto ref = io::SafetensorsFile::open(test::fixture_path("llamba/" + name + "/reference.safetensors"));
  ASSERT_EQ(ref.metadata().at("fixture_format"), "1");
  const auto ids64 = ref.to_i64("input_ids");
  const int64_t B = ref.tensor("input_ids").size(0), T = ref.tensor("input_ids").size(1);
  const int64_t V = model.info().n_vocab, L = model.info().n_layers;
  ASSERT_EQ(ref.tensor("logits").size(2), V) << "padded vocabulary";
  std::map<std::string, std::vector<float>> taps;
  models::Observer obs = [&](std::string_view n, int layer, const core::TensorView& t) {
    const std::string key = layer >= 0 ? std::string(n) + "." + std::to_string(layer) : std::string(n);
    taps[key].assign(t.f32(), t.f32() + t.numel());
  };
  core::ThreadPool pool(2);
  std::vector<std::unique_ptr<models::SequenceState>> states;
  std::vector<models::SequenceState*> sp;
  for (int64_t b = 0; b < B; ++b) {
    states.push_back(model.new_state());
    sp.push_back(states.back().get());
  }
  std::vector<float> logits(B * T * V);
  models::ForwardOptions opts{.all_logits = true, .observer = &obs};
  const std::vector<int32_t> ids(ids64.begin(), ids64.end());
  model.forward(pool, ids, B, sp, logits.data(), opts);
  taps["logits"] = logits;

  // Compare in forward order; the first failure names the layer and tensor.
  std::vector<std::string> order;
  for (int64_t l = 0; l < L; ++l) {
    order.push_back("hidden." + std::to_string(l));
    order.push_back("mixer_out." + std::to_string(l));
  }
  order.push_back("hidden." + std::to_string(L));
  order.push_back("final_hidden");
  order.push_back("logits");
  for (const auto& key : order) {
    const core::Tensor want = ref.to_f32(key);
    const auto& got = taps[key];
    ASSERT_EQ((int64_t)got.size(), want.numel()) << key;
    const double err = test::rel_max_error(got.data(), want.f32(), want.numel());
    ASSERT_LE(err, kTol) << name << ": first diverging tensor " << key << " (relative error " << err << ")";
    if (key == "logits") std::printf("%s: logits relative error %.3g\n", name.c_str(), err);
  }
  auto check_states = [&](const std::string& prefix) {
    for (int64_t l = 0; l < L; ++l)
      for (const char* part : {"conv", "ssm"}) {
        const std::string key = prefix + "." + std::to_string(l) + "." + part;
        const core::Tensor want = ref.to_f32(key);
        std::vector<float> got;
        for (int64_t b = 0; b < B; ++b) {
          const auto& layer = static_cast<models::RecurrentState*>(sp[b])->layers[l];
          const core::Tensor& t = std::string(part) == "conv" ? layer.conv : layer.ssm;
          got.insert(got.end(), t.f32(), t.f32() + t.numel());
        }
        ASSERT_EQ((int64_t)got.size(), want.numel()) << key;
        const double err = test::rel_max_error(got.data(), want.f32(), want.numel());
        ASSERT_LE(err, kTol) << name << ": state " << key << " (relative error " << err << ")";
      }
  };
  check_states("state");

  // Decode: one token per step for every row, through the recurrent step.
  const auto dec64 = ref.to_i64("decode_ids");
  const int64_t S = ref.tensor("decode_ids").size(1);
  const core::Tensor want_dec = ref.to_f32("decode_logits");
  std::vector<float> step(B * V);
  for (int64_t s = 0; s < S; ++s) {
    std::vector<int32_t> tok(B);
    for (int64_t b = 0; b < B; ++b) tok[b] = (int32_t)dec64[b * S + s];
    model.forward(pool, tok, B, sp, step.data(), {});
    for (int64_t b = 0; b < B; ++b) {
      const double err = test::rel_max_error(step.data() + b * V, want_dec.f32() + (b * S + s) * V, V);
      ASSERT_LE(err, kTol) << name << ": decode step " << s << " row " << b;
    }
  }
  check_states("decode_state");

  // Layer 0's materialized matrix on its normalized input (hidden.0 through input_layernorm).
  const core::Tensor h0 = ref.to_f32("hidden.0");
  const auto& c = model.config();
  const core::Tensor want_m = ref.to_f32("mixer_matrix.0");
  for (int64_t b = 0; b < B; ++b) {
    core::Tensor u = core::Tensor::zeros(core::DType::kF32, {T, c.d_model});
    const core::TensorView hb = h0.view().select(0, b);
    ops::rmsnorm_forward(pool, u, hb, gguf.tensor("blk.0.attn_norm.weight"), (float)c.block_eps);
    core::Tensor m = core::Tensor::zeros(core::DType::kF32, {c.n_heads, T, T});
    model.mixer_matrix(pool, 0, u, m);
    const double err = test::rel_max_error(m.f32(), want_m.f32() + b * m.numel(), m.numel());
    EXPECT_LE(err, kTol) << name << ": mixer_matrix.0 row " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, LlambaReference, ::testing::Values("g_eq_h", "g_lt_h", "p_odd", "short_t"));

}  // namespace
}  // namespace llamba
