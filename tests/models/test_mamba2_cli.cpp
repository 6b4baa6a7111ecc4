// Mamba-2 through the `llamba` binary users run: `llamba convert` of a transformers checkpoint, `llamba info` (state
// bytes per sequence), the training form (--for-training), and a q8_0 conversion whose logits stay near the fp32
// reference.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "io/gguf.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "cli_util.h"

namespace llamba {
namespace {

// Exit status and stdout + stderr of a shell command, as a pair (the tests re-assign them with std::tie).
std::pair<int, std::string> sh(const std::string& cmd) {
  auto r = test::run_shell(cmd);
  return {r.code, std::move(r.out)};
}
std::string bin() { return test::llamba_bin(); }

TEST(Mamba2Cli, ConvertThenInfo) {
  if (bin().empty()) GTEST_SKIP() << "no llamba binary (set LLAMBA_BIN or build the llamba target)";
  const std::string out = test::temp_path("mamba2_cli_tied_g1.gguf").string();
  auto [rc, text] = sh(bin() + " convert " + test::fixture_path("mamba2/tied_g1") + " -o " + out);
  ASSERT_EQ(rc, 0) << text;
  std::tie(rc, text) = sh(bin() + " info " + out);
  ASSERT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("architecture:  mamba2"), std::string::npos) << text;
  EXPECT_NE(text.find("layers:        2   d_model: 16   vocab: 256"), std::string::npos) << text;
  // 2 layers × (3 conv rows × Cc 64 + H 4 × P 8 × N 16) × 4 B = 5632 B.
  EXPECT_NE(text.find("state/seq:     5.50 KiB (constant in context)"), std::string::npos) << text;
}

// --for-training keeps A_log (ssm_a_log) instead of folding it into ssm_a; both forms compute the same logits.
TEST(Mamba2Cli, ConvertForTrainingKeepsALog) {
  if (bin().empty()) GTEST_SKIP() << "no llamba binary (set LLAMBA_BIN or build the llamba target)";
  const std::string inf = test::temp_path("mamba2_cli_p_odd.gguf").string();
  const std::string trn = test::temp_path("mamba2_cli_p_odd_train.gguf").string();
  const std::string src = test::fixture_path("mamba2/p_odd_untied");
  auto [rc, text] = sh(bin() + " convert " + src + " -o " + inf);
  ASSERT_EQ(rc, 0) << text;
  std::tie(rc, text) = sh(bin() + " convert " + src + " --for-training -o " + trn);
  ASSERT_EQ(rc, 0) << text;
  const auto fi = io::GgufFile::open(inf), ft = io::GgufFile::open(trn);
  EXPECT_TRUE(fi.find_tensor("blk.0.ssm_a") && !fi.find_tensor("blk.0.ssm_a_log"));
  EXPECT_TRUE(ft.find_tensor("blk.0.ssm_a_log") && !ft.find_tensor("blk.0.ssm_a"));
  // The checkpoint has no conv bias: only the inference form writes zeros for llama.cpp.
  EXPECT_TRUE(fi.find_tensor("blk.0.ssm_conv1d.bias") && !ft.find_tensor("blk.0.ssm_conv1d.bias"));
  const auto mi = models::load_model(fi), mt = models::load_model(ft);
  const std::vector<int32_t> ids = {5, 17, 3, 99, 42, 7, 150, 8, 23, 61, 0, 199};
  const int64_t V = mi->info().n_vocab, T = (int64_t)ids.size();
  std::vector<float> li(T * V), lt(T * V);
  ops::Context ctx(2);
  for (auto [m, l] : {std::pair{mi.get(), &li}, std::pair{mt.get(), &lt}}) {
    auto st = m->new_state();
    models::SequenceState* sp = st.get();
    m->forward(ctx, ids, 1, {&sp, 1}, core::view_f32(*l, {1, T, V}), {.all_logits = true});
  }
  // A = −exp(A_log) in fp32 at conversion or per forward: the same value to an ulp, so logits agree to ~1e-6.
  EXPECT_LE(test::rel_max_error(lt.data(), li.data(), T * V), 1e-5);
}

// Matrices in q8_0 (conv, Δ/A/D, norms stay f32): logits move by the quantization noise only.
TEST(Mamba2Cli, Q8ConversionStaysClose) {
  if (bin().empty()) GTEST_SKIP() << "no llamba binary (set LLAMBA_BIN or build the llamba target)";
  const std::string out = test::temp_path("mamba2_cli_groups2_q8.gguf").string();
  auto [rc, text] = sh(bin() + " convert " + test::fixture_path("mamba2/groups2") + " --outtype q8_0 -o " + out);
  ASSERT_EQ(rc, 0) << text;
  const auto f = io::GgufFile::open(out);
  EXPECT_EQ(f.find_tensor("blk.0.ssm_in.weight")->dtype, core::DType::kQ8_0);
  EXPECT_EQ(f.find_tensor("blk.0.ssm_a")->dtype, core::DType::kF32);
  const auto model = models::load_model(f);
  const auto ref = io::SafetensorsFile::open(test::fixture_path("mamba2/groups2/reference.safetensors"));
  const auto ids64 = ref.to_i64("input_ids");
  const int64_t B = 2, T = ref.tensor("input_ids").size(1), V = model->info().n_vocab;
  std::vector<std::unique_ptr<models::SequenceState>> st;
  std::vector<models::SequenceState*> sp;
  for (int b = 0; b < B; ++b) st.push_back(model->new_state()), sp.push_back(st.back().get());
  std::vector<float> logits(B * T * V);
  ops::Context ctx(2);
  model->forward(ctx, std::vector<int32_t>(ids64.begin(), ids64.end()), B, sp, core::view_f32(logits, {B, T, V}),
                 {.all_logits = true});
  // Q8_0 rounds each weight to 1/254 of its 32-block's max |w| (~0.6% of a N(0,1) row's scale). The tied head alone
  // moves a logit by ~sqrt(D = 32)·0.006 ≈ 0.03 (1σ), ~0.15 at the extremes of 2·37·256 logits, i.e. 4e-3 of max
  // |logit| 35.7; the in_proj/out_proj noise of both layers adds to it: measured 1.37e-2, as for transformers run
  // on the same weights quantized and dequantized by gguf-py (1.37e-2). 5e-2 still catches a
  // broken dequantization or a quantized f32-only tensor (errors of order 1).
  const double err = test::rel_max_error(logits.data(), ref.to_f32("logits").f32(), B * T * V);
  std::printf("groups2 q8_0: logits relative error %.3g\n", err);
  EXPECT_LE(err, 5e-2);
}

}  // namespace
}  // namespace llamba
