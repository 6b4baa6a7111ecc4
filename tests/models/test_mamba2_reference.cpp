// Mamba-2 against transformers' Mamba2ForCausalLM (PyTorch path, fp32; tools/reference/make_mamba2_fixtures.py).
// The saved HF checkpoint goes through `llamba convert`, then every tap is compared in forward order and the first
// diverging layer and tensor is reported: hidden.l, mixer_y.l, mixer_gated.l, mixer_out.l, final_hidden, logits;
// the per-layer conv/SSM states after the prompt; 6 decode steps (logits, states); a 5-token continuation chunk.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "io/gguf.h"
#include "io/hf_checkpoint.h"
#include "io/safetensors.h"
#include "models/convert.h"
#include "models/mamba2/mamba2.h"
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

std::string convert(const std::string& name) {
  const auto ckpt = io::HfCheckpoint::open(test::fixture_path("mamba2/" + name));
  io::GgufWriter w;
  models::convert_hf(ckpt, {}, w);
  const std::string out = test::temp_path("mamba2_ref_" + name + ".gguf").string();
  w.write(out);
  return out;
}

struct Batch {
  std::vector<std::unique_ptr<models::SequenceState>> states;
  std::vector<models::SequenceState*> ptrs;
};

TEST_P(Mamba2Reference, EveryTapMatchesInOrder) {
  const std::string name = GetParam();
  const auto gguf = io::GgufFile::open(convert(name));
  models::mamba2::Mamba2Model model(gguf);
  const auto ref = io::SafetensorsFile::open(test::fixture_path("mamba2/" + name + "/reference.safetensors"));
  ASSERT_EQ(ref.metadata().at("fixture_format"), "1") << "---> HINT: regenerate with make_mamba2_fixtures.py";
  const auto ids64 = ref.to_i64("input_ids");
  const int64_t B = ref.tensor("input_ids").size(0), T = ref.tensor("input_ids").size(1);
  const int64_t V = model.info().n_vocab, L = model.info().n_layers;
  ASSERT_EQ(ref.tensor("logits").size(2), V);
  std::map<std::string, std::vector<float>> taps;
  models::Observer obs = [&](std::string_view n, int layer, const core::TensorView& t) {
    const std::string key = layer >= 0 ? std::string(n) + "." + std::to_string(layer) : std::string(n);
    taps[key].assign(t.f32(), t.f32() + t.numel());
  };
  core::ThreadPool pool(2);
  Batch bt;
  for (int64_t b = 0; b < B; ++b) {
    bt.states.push_back(model.new_state());
    bt.ptrs.push_back(bt.states.back().get());
  }
  std::vector<float> logits(B * T * V);
  models::ForwardOptions opts{.all_logits = true, .observer = &obs};
  const std::vector<int32_t> ids(ids64.begin(), ids64.end());
  model.forward(pool, ids, B, bt.ptrs, logits.data(), opts);
  taps["logits"] = logits;

  // Compare in forward order; the first failure names the layer and tensor.
  std::vector<std::string> order;
  for (int64_t l = 0; l < L; ++l)
    for (const char* k : {"hidden.", "mixer_y.", "mixer_gated.", "mixer_out."}) order.push_back(k + std::to_string(l));
  order.push_back("hidden." + std::to_string(L));
  order.push_back("final_hidden");
  order.push_back("logits");
  double worst = 0;
  std::string worst_key;
  for (const auto& key : order) {
    const core::Tensor want = ref.to_f32(key);
    const auto& got = taps[key];
    ASSERT_EQ((int64_t)got.size(), want.numel()) << key;
    const double err = test::rel_max_error(got.data(), want.f32(), want.numel());
    ASSERT_LE(err, kTol) << name << ": first diverging tensor " << key << " (relative error " << err << ")";
    if (err > worst) worst = err, worst_key = key;
    if (key == "hidden.1" || key == "logits")
      std::printf("%s: %s relative error %.3g\n", name.c_str(), key.c_str(), err);
  }
  std::printf("%s: worst prefill tap %s %.3g\n", name.c_str(), worst_key.c_str(), worst);
  auto check_states = [&](const std::string& prefix) {
    double w = 0;
    for (int64_t l = 0; l < L; ++l)
      for (const char* part : {"conv", "ssm"}) {
        const std::string key = prefix + "." + std::to_string(l) + "." + part;
        const core::Tensor want = ref.to_f32(key);
        std::vector<float> got;
        for (int64_t b = 0; b < B; ++b) {
          const auto& layer = static_cast<models::RecurrentState*>(bt.ptrs[b])->layers[l];
          const core::Tensor& t = std::string(part) == "conv" ? layer.conv : layer.ssm;
          got.insert(got.end(), t.f32(), t.f32() + t.numel());
        }
        ASSERT_EQ((int64_t)got.size(), want.numel()) << key;
        const double err = test::rel_max_error(got.data(), want.f32(), want.numel());
        ASSERT_LE(err, kTol) << name << ": state " << key << " (relative error " << err << ")";
        w = std::max(w, err);
      }
    std::printf("%s: %s worst relative error %.3g\n", name.c_str(), prefix.c_str(), w);
  };
  check_states("state");

  // Decode: one token per step for every row, through the recurrent step.
  const auto dec64 = ref.to_i64("decode_ids");
  const int64_t S = ref.tensor("decode_ids").size(1);
  const core::Tensor want_dec = ref.to_f32("decode_logits");
  std::vector<float> step(B * V);
  double wd = 0;
  for (int64_t s = 0; s < S; ++s) {
    std::vector<int32_t> tok(B);
    for (int64_t b = 0; b < B; ++b) tok[b] = (int32_t)dec64[b * S + s];
    model.forward(pool, tok, B, bt.ptrs, step.data(), {});
    for (int64_t b = 0; b < B; ++b) {
      const double err = test::rel_max_error(step.data() + b * V, want_dec.f32() + (b * S + s) * V, V);
      ASSERT_LE(err, kTol) << name << ": decode step " << s << " row " << b;
      wd = std::max(wd, err);
    }
  }
  std::printf("%s: decode logits worst relative error %.3g\n", name.c_str(), wd);
  check_states("decode_state");

  // Continuation: E tokens at once from the decoded state (chunked scan from a carried state, conv over the
  // carried rows).
  const auto ext64 = ref.to_i64("extend_ids");
  const int64_t E = ref.tensor("extend_ids").size(1);
  const std::vector<int32_t> ext(ext64.begin(), ext64.end());
  std::vector<float> elog(B * E * V);
  model.forward(pool, ext, B, bt.ptrs, elog.data(), {.all_logits = true});
  const double ee = test::rel_max_error(elog.data(), ref.to_f32("extend_logits").f32(), B * E * V);
  EXPECT_LE(ee, kTol) << name << ": extend logits";
  std::printf("%s: extend logits relative error %.3g\n", name.c_str(), ee);
  check_states("extend_state");
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
  core::ThreadPool pool(2);
  Batch bt;
  for (int64_t b = 0; b < B; ++b) {
    bt.states.push_back(model->new_state());
    bt.ptrs.push_back(bt.states.back().get());
  }
  std::vector<float> logits(B * T * V);
  const std::vector<int32_t> ids(ids64.begin(), ids64.end());
  model->forward(pool, ids, B, bt.ptrs, logits.data(), {.all_logits = true});
  const double err = test::rel_max_error(logits.data(), ref.to_f32("logits").f32(), B * T * V);
  EXPECT_LE(err, kTol);
  std::printf("groups2.llamacpp.gguf: logits relative error %.3g\n", err);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, Mamba2Reference,
                         ::testing::Values("tied_g1", "p_odd_untied", "groups2", "dt_limit", "short_t"));

}  // namespace
}  // namespace llamba
