// `llamba eval` on the default model against transformers (fixture from tools/reference/make_eval_fixtures.py):
// token ids, per-chunk perplexity sums, LAMBADA targets and BLiMP sentences; then batched = one-at-a-time scoring
// on the real Llama model and on random Llamba, Mamba-2 and GateLoop models (right padding changes nothing), and
// logits from a position on equal those rows of the full logits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "eval/perplexity.h"
#include "eval/scorer.h"
#include "eval/tasks.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

namespace llamba {
namespace {

// Logits match transformers within 1e-4 of the row's largest |logit| (test_llama_smollm2_slow.cpp); a log-probability
// x_t − lse(x) moves by at most twice a logit's error, and SmolLM2's logits here stay below 40 in magnitude
// (checked below): 2 · 1e-4 · 40 per scored token.
constexpr double kMaxAbsLogit = 40, kLogprobTol = 2 * 1e-4 * kMaxAbsLogit;

nlohmann::json load_reference() {
  std::ifstream in(test::fixture_path("eval/smollm2_reference.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

class EvalSmolLM2 : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = test::default_model_path();
    if (path.empty()) GTEST_SKIP() << "default model not installed: run scripts/setup.sh";
    file_ = std::make_unique<io::GgufFile>(io::GgufFile::open(path));
    model_ = models::load_model(*file_);
    tok_ = tokenizer::Tokenizer::from_gguf(*file_);
    ref_ = load_reference();
    ASSERT_EQ(ref_["fixture_format"], "1") << "regenerate with tools/reference/make_eval_fixtures.py";
  }
  ops::Context ctx_{2};
  std::unique_ptr<io::GgufFile> file_;
  std::unique_ptr<models::Model> model_;
  std::unique_ptr<tokenizer::Tokenizer> tok_;
  nlohmann::json ref_;
};

TEST_F(EvalSmolLM2, PerplexityMatchesTransformers) {
  const auto& p = ref_["perplexity"];
  const std::string text = p["text"];
  const std::vector<int32_t> want_ids = p["ids"];
  std::string t = text;
  if (!t.empty() && t.back() == '\n') t.pop_back();
  ASSERT_EQ(tok_->encode(t, false, false), want_ids) << "tokenization differs from transformers'";
  eval::PerplexityOptions o;
  o.ctx = ref_["ctx"];
  o.batch = 3;
  o.progress = false;
  const auto r = eval::evaluate_perplexity(ctx_, *model_, *tok_, text, o);
  const std::vector<double> chunk_nll = p["chunk_nll"];
  ASSERT_EQ(r.n_chunks, (int64_t)chunk_nll.size());
  EXPECT_FALSE(r.add_bos) << "SmolLM2's GGUF sets add_bos_token false";
  const int64_t per_chunk = o.ctx - o.ctx / 2 - 1;
  double cum = 0;
  for (size_t c = 0; c < chunk_nll.size(); ++c) {  // the chunk sums, recovered from the running values
    cum += chunk_nll[c];
    const double n = (double)per_chunk * (double)(c + 1);
    EXPECT_NEAR(std::log(r.running[c]) * n, cum, kLogprobTol * n) << "chunk " << c;
  }
  EXPECT_NEAR(r.ppl.value, p["ppl"].get<double>(), r.ppl.value * kLogprobTol);
  // The bound's premise: SmolLM2's logits on the first chunk stay below kMaxAbsLogit.
  std::vector<float> logits(o.ctx * model_->info().n_vocab);
  models::FreshStates st(*model_, 1);
  model_->forward(ctx_, std::span(want_ids).first(o.ctx), 1, st.ptrs,
                  core::view_f32(logits, {1, o.ctx, model_->info().n_vocab}), {.all_logits = true});
  float mx = 0;
  for (float x : logits) mx = std::max(mx, std::fabs(x));
  EXPECT_LT(mx, kMaxAbsLogit);
}

TEST_F(EvalSmolLM2, LambadaAndBlimpMatchTransformers) {
  std::string jsonl;
  for (const auto& e : ref_["lambada"]) jsonl += nlohmann::json{{"text", e["text"]}}.dump() + "\n";
  eval::TaskOptions o;
  o.progress = false;
  o.batch = 5;
  // Per passage, through the scorer directly, so each target can be compared.
  std::vector<eval::Sequence> seqs;
  for (const auto& e : ref_["lambada"]) {
    const std::vector<int32_t> ids = e["ids"];
    const int64_t n = e["n_target"];
    seqs.push_back({ids, (int64_t)ids.size() - n - 1});
  }
  eval::ScorerOptions so;
  so.progress = false;
  const auto scores = eval::Scorer(ctx_, *model_, nullptr, so).score(seqs);
  double sum = 0;
  int64_t correct = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const auto& e = ref_["lambada"][i];
    const double n = e["n_target"];
    EXPECT_NEAR(scores[i].sum_logprob(), e["logprob"].get<double>(), kLogprobTol * n) << "passage " << i;
    EXPECT_EQ(scores[i].all_greedy(), e["greedy"].get<bool>()) << "passage " << i;
    sum += e["logprob"].get<double>();
    correct += e["greedy"].get<bool>();
  }
  // And through evaluate_lambada, which must build the same token sequences from the text.
  const auto r = eval::evaluate_lambada(ctx_, *model_, *tok_, jsonl, "reference", o);
  EXPECT_EQ(r.n, (int64_t)seqs.size());
  EXPECT_EQ(r.correct, correct);
  EXPECT_NEAR(r.sum_logprob, sum, kLogprobTol * r.target_tokens);

  for (const auto& pr : ref_["blimp"]) {
    for (const char* key : {"sentence_good", "sentence_bad"}) {
      std::vector<int32_t> ids = {tok_->bos_id()};
      tok_->encode_into(pr[key].get<std::string>(), false, false, ids);
      const std::vector<int32_t> want = pr[std::string(key) + "_ids"];
      ASSERT_EQ(ids, want) << pr[key];
      const auto s = eval::Scorer(ctx_, *model_, nullptr, so).score({{ids, 0}});
      EXPECT_NEAR(s[0].sum_logprob(), pr[std::string(key) + "_logprob"].get<double>(),
                  kLogprobTol * (double)(ids.size() - 1))
          << pr[key];
    }
  }
}

// Sequences of assorted lengths scored in batches of 4 (sorted, right-padded) and one at a time.
void expect_batched_equals_single(ops::Context& ctx, const models::Model& model, const std::string& what) {
  SCOPED_TRACE(what);
  core::Rng rng(17);
  std::vector<eval::Sequence> seqs;
  for (int i = 0; i < 7; ++i) {
    eval::Sequence s;
    const int64_t n = 3 + (int64_t)rng.below(70);
    for (int64_t t = 0; t < n; ++t) s.tokens.push_back((int32_t)rng.below(model.info().n_vocab));
    s.first = (int64_t)rng.below(n - 1);
    seqs.push_back(std::move(s));
  }
  eval::ScorerOptions o;
  o.progress = false;
  o.batch = 1;
  const auto one = eval::Scorer(ctx, model, nullptr, o).score(seqs);
  o.batch = 4;
  const auto many = eval::Scorer(ctx, model, nullptr, o).score(seqs);
  for (size_t i = 0; i < seqs.size(); ++i) {
    ASSERT_EQ(one[i].logprob.size(), many[i].logprob.size());
    for (size_t j = 0; j < one[i].logprob.size(); ++j)
      ASSERT_EQ(one[i].logprob[j], many[i].logprob[j]) << "sequence " << i << " position " << j;
  }
}

// ForwardOptions::logits_from: the rows from position k on, exactly as in the full logits.
void expect_logits_from_equals_full(ops::Context& ctx, const models::Model& model) {
  const int64_t B = 2, T = 37, k = 23, V = model.info().n_vocab;
  std::vector<int32_t> ids(B * T);
  for (int64_t i = 0; i < B * T; ++i) ids[i] = (int32_t)((i * 7919) % V);
  std::vector<float> full(B * T * V), part(B * (T - k) * V);
  models::FreshStates s1(model, B), s2(model, B);
  model.forward(ctx, ids, B, s1.ptrs, core::view_f32(full, {B, T, V}), {.all_logits = true});
  model.forward(ctx, ids, B, s2.ptrs, core::view_f32(part, {B, T - k, V}), {.all_logits = true, .logits_from = k});
  for (int64_t b = 0; b < B; ++b)
    EXPECT_TRUE(std::equal(part.begin() + b * (T - k) * V, part.begin() + (b + 1) * (T - k) * V,
                           full.begin() + (b * T + k) * V))
        << "row " << b;
}

TEST_F(EvalSmolLM2, BatchedEqualsOneAtATime) {
  expect_batched_equals_single(ctx_, *model_, "llama (SmolLM2)");
  expect_logits_from_equals_full(ctx_, *model_);
}

TEST(EvalScorerModels, BatchedEqualsOneAtATimeForRecurrentModels) {
  ops::Context ctx(2);
  const std::vector<std::pair<models::Arch, nlohmann::json>> cfgs = {
      {models::Arch::kLlamba,
       {{"d_model", 32}, {"n_layers", 2}, {"ffn", 64}, {"n_heads", 4}, {"d_state", 8}, {"chunk_size", 16}}},
      {models::Arch::kMamba2, {{"d_model", 32}, {"n_layers", 2}, {"head_dim", 16}, {"d_state", 8}, {"chunk_size", 16}}},
      {models::Arch::kGateLoop, {{"d_model", 32}, {"n_layers", 2}, {"ffn", 64}, {"n_heads", 4}}},
  };
  for (const auto& [arch, cfg] : cfgs) {
    io::GgufWriter w;
    models::write_init_model(arch, cfg, 97, 3, w);
    const io::GgufFile f = io::GgufFile::parse(w.write_to_memory(), std::string(models::arch_name(arch)));
    const auto model = models::load_model(f);
    expect_batched_equals_single(ctx, *model, std::string(models::arch_name(arch)));
    expect_logits_from_equals_full(ctx, *model);
  }
}

}  // namespace
}  // namespace llamba
