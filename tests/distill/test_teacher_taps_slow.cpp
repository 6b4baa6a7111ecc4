// The MOHAWK teacher taps of the default model against transformers (fixture from
// tools/reference/make_smollm2_taps_fixture.py, eager attention with output_attentions): per query head the
// attention probabilities (stage 1's target), the attention output before its residual add and the residual
// stream entering the layer (stage 2's input and target), at the first, second, middle and last layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>

#include "io/gguf.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "test_util.h"

namespace llamba {
namespace {

// Both sides run fp32 on the same dequantized weights, so differences come from summation order only, as in
// test_llama_smollm2_slow.cpp: ~sqrt(K)·eps per op, compounded over the layers to a few 1e-5 of each tensor's
// scale; the 1e-4 relative bound of the hidden states is kept for all three (probabilities: relative to the
// largest, 1).
constexpr double kTol = 1e-4;

TEST(SmolLM2Taps, MatchTransformers) {
  const std::string path = test::default_model_path();
  if (path.empty()) GTEST_SKIP() << "default model not installed: run scripts/setup.sh";
  const auto fx = io::SafetensorsFile::open(test::fixture_path("smollm2/taps.safetensors"));
  ASSERT_EQ(fx.metadata().at("fixture_format"), "1") << "regenerate with tools/reference/make_smollm2_taps_fixture.py";
  const auto gguf = io::GgufFile::open(path);
  const auto model = models::load_model(gguf);
  const auto ids64 = fx.to_i64("input_ids");
  const std::vector<int32_t> ids(ids64.begin(), ids64.end());
  const int64_t T = (int64_t)ids.size(), V = model->info().n_vocab;
  std::vector<int> layers;  // the fixture's, e.g. "0,1,15,29"
  std::stringstream list(fx.metadata().at("layers"));
  for (std::string l; std::getline(list, l, ',');) layers.push_back(std::stoi(l));
  ASSERT_FALSE(layers.empty());
  std::map<std::string, std::vector<float>> got;  // "attn.l", "mixer_out.l", "hidden.l"
  const models::Observer obs = [&](std::string_view name, int l, const core::TensorView& t) {
    if (std::find(layers.begin(), layers.end(), l) == layers.end()) return;
    std::string key;
    if (name == "attn_probs") key = "attn.";
    if (name == "mixer_out") key = "mixer_out.";
    if (name == "hidden") key = "hidden.";
    if (key.empty()) return;
    got[key + std::to_string(l)].assign(t.f32(), t.f32() + t.numel());
  };
  ops::Context ctx;
  models::FreshStates st(*model, 1);
  std::vector<float> logits(V);
  models::ForwardOptions o;
  o.observer = &obs;
  o.attention_probs = true;
  model->forward(ctx, ids, 1, st.ptrs, core::view_f32(logits, {1, V}), o);
  for (int l : layers)
    for (const std::string what : {"hidden.", "attn.", "mixer_out."}) {  // in layer order: the first divergence
      const std::string key = what + std::to_string(l);
      const core::Tensor ref = fx.to_f32(key);
      ASSERT_EQ((int64_t)got[key].size(), ref.numel()) << key << " (T = " << T << ")";
      const double err = test::rel_max_error(got[key].data(), ref.f32(), ref.numel());
      EXPECT_LE(err, kTol) << key << " relative error " << err;
      RecordProperty(key, std::to_string(err));
    }
}

}  // namespace
}  // namespace llamba
