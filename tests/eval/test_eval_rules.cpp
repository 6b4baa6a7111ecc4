// The evaluation rules on a toy model whose every log-probability the test computes from the definition
// (toy_model.h): llama-perplexity's chunking, BOS and second-half rules; LAMBADA's context/target split with
// multi-token words and an empty context; BLiMP's pair comparison, per paradigm and phenomenon, from .jsonl and
// .jsonl.xz; KL against itself; batched = one at a time; malformed input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "cli_util.h"
#include "eval/perplexity.h"
#include "eval/scorer.h"
#include "eval/tasks.h"
#include "toy_model.h"

namespace llamba {
namespace {

using test::expected_logprobs;

// ~40 bytes of text with some "next byte" runs the toy model predicts well.
const std::string kText = "abcdefg hijk lmnop qrst uvw xyz 0123456789 ABCDEFG";

double expected_ppl(const std::string& text, int64_t ctx, int64_t chunks, bool bos, std::vector<double>* running) {
  std::vector<int32_t> ids;
  if (bos) ids.push_back(test::kToyBos);
  for (unsigned char c : text) ids.push_back(c);
  double nll = 0;
  int64_t count = 0;
  const int64_t n = std::min<int64_t>(chunks, (int64_t)ids.size() / ctx);
  for (int64_t c = 0; c < n; ++c) {
    std::vector<int32_t> seq(ids.begin() + c * ctx, ids.begin() + (c + 1) * ctx);
    if (bos) seq[0] = test::kToyBos;
    for (double lp : expected_logprobs(seq, ctx / 2)) nll -= lp, ++count;
    running->push_back(std::exp(nll / count));
  }
  return std::exp(nll / count);
}

TEST(EvalPerplexity, ChunksBosAndSecondHalfAsLlamaCpp) {
  ops::Context ctx(2);
  const test::ToyModel model;
  for (bool bos : {false, true}) {
    SCOPED_TRACE(bos ? "BOS" : "no BOS");
    const auto tok = test::toy_tokenizer(bos);
    for (int64_t chunks : {-1, 2}) {
      eval::PerplexityOptions o;
      o.ctx = 8;
      o.chunks = chunks;
      o.batch = 3;
      o.progress = false;
      const auto r = eval::evaluate_perplexity(ctx, model, *tok, kText + "\n", o);  // one newline is dropped
      std::vector<double> running;
      const double want = expected_ppl(kText, 8, chunks < 0 ? 1000 : chunks, bos, &running);
      EXPECT_EQ(r.n_chunks, chunks < 0 ? (int64_t)(kText.size() + bos) / 8 : 2);
      EXPECT_EQ(r.count, r.n_chunks * 3) << "positions 4, 5, 6 of each chunk of 8";
      EXPECT_NEAR(r.ppl.value, want, 1e-6 * want);
      ASSERT_EQ(r.running.size(), running.size());
      for (size_t i = 0; i < running.size(); ++i) EXPECT_NEAR(r.running[i], running[i], 1e-6 * running[i]);
      EXPECT_GT(r.ppl.error, 0);
    }
  }
  // The BOS rule is observable: the toy's predictions depend on the chunk's first token.
  std::vector<double> a, b;
  EXPECT_NE(expected_ppl(kText, 8, 3, false, &a), expected_ppl(kText, 8, 3, true, &b));
}

TEST(EvalPerplexity, UniformModelHasPerplexityV) {
  // All logits equal: every token has probability 1/V, whatever the text.
  class Uniform final : public models::Model {
   public:
    Uniform() { info_.n_vocab = test::kToyV; }
    const models::ModelInfo& info() const override { return info_; }
    std::unique_ptr<models::SequenceState> new_state() const override { return test::ToyModel().new_state(); }
    int64_t state_bytes(int64_t) const override { return 0; }
    void forward(ops::Context&, std::span<const int32_t> t, int64_t batch,
                 std::span<models::SequenceState* const>, const core::TensorView& logits,
                 const models::ForwardOptions& o) const override {
      const int64_t T = (int64_t)t.size() / batch, rows = o.all_logits ? T - std::min(o.logits_from, T) : 1;
      EXPECT_EQ(logits.numel(), batch * rows * test::kToyV);
      std::fill(logits.f32(), logits.f32() + logits.numel(), 1.5f);
    }
    void for_each_tensor(const models::TensorVisitor&) const override {}

   private:
    models::ModelInfo info_;
  } model;
  ops::Context ctx(1);
  eval::PerplexityOptions o;
  o.ctx = 10;
  o.progress = false;
  const auto r = eval::evaluate_perplexity(ctx, model, *test::toy_tokenizer(false), kText, o);
  EXPECT_NEAR(r.ppl.value, (double)test::kToyV, 1e-9 * test::kToyV);
  EXPECT_EQ(r.ppl.error, 0.0);
}

TEST(EvalPerplexity, KlAgainstItselfIsZero) {
  ops::Context ctx(2);
  const test::ToyModel model;
  eval::PerplexityOptions o;
  o.ctx = 8;
  o.progress = false;
  const auto r = eval::evaluate_perplexity(ctx, model, *test::toy_tokenizer(false), kText, o, &model);
  ASSERT_TRUE(r.kl);
  EXPECT_EQ(r.kl->mean_kl.value, 0.0);
  EXPECT_EQ(r.kl->max_kl, 0.0);
  EXPECT_EQ(r.kl->same_top.value, 1.0);
  EXPECT_EQ(r.kl->ppl_diff.value, 0.0);
  EXPECT_EQ(r.kl->ppl_base.value, r.ppl.value);
}

TEST(EvalPerplexity, TooShortTextIsRefused) {
  ops::Context ctx(1);
  const test::ToyModel model;
  eval::PerplexityOptions o;
  o.ctx = 32;
  o.progress = false;
  try {
    eval::evaluate_perplexity(ctx, model, *test::toy_tokenizer(false), kText, o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs at least 64"), std::string::npos) << e.what();
  }
}

TEST(EvalLambada, LastWordSplitMultiTokenTargetsAndEmptyContext) {
  ops::Context ctx(2);
  const test::ToyModel model;
  const auto tok = test::toy_tokenizer(false);
  // 1: the target " !\"#" is four tokens, each the successor of the one before (greedy right);
  // 2: a plain passage; 3: no context at all (the prefix token stands in).
  const std::vector<std::string> texts = {"ab\x1f !\"#", "hello there world", " xyz"};
  std::string jsonl;
  for (const auto& t : texts) jsonl += nlohmann::json{{"text", t}}.dump() + "\n";
  eval::TaskOptions o;
  o.batch = 2;
  o.progress = false;
  const auto r = eval::evaluate_lambada(ctx, model, *tok, jsonl, "toy.jsonl", o);
  double sum = 0;
  int64_t correct = 0, targets = 0;
  for (const auto& t : texts) {
    const size_t cut = t.rfind(' ');
    std::vector<int32_t> seq(t.begin(), t.begin() + cut);
    const bool empty = seq.empty();
    if (empty) seq.push_back(test::kToyBos);
    seq.insert(seq.end(), t.begin() + cut, t.end());
    std::vector<bool> greedy;
    const auto lp = expected_logprobs(seq, empty ? 0 : (int64_t)cut - 1, &greedy);
    EXPECT_EQ(lp.size(), t.size() - cut) << t;
    sum += std::accumulate(lp.begin(), lp.end(), 0.0);
    correct += std::all_of(greedy.begin(), greedy.end(), [](bool g) { return g; });
    targets += (int64_t)lp.size();
  }
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.correct, correct);
  EXPECT_GE(r.correct, 1) << "passage 1 is right by construction";
  EXPECT_EQ(r.target_tokens, targets);
  EXPECT_NEAR(r.sum_logprob, sum, 1e-6 * std::fabs(sum));
  EXPECT_NEAR(r.ppl_word(), std::exp(-sum / 3), 1e-6 * r.ppl_word());
  o.limit = 1;
  EXPECT_EQ(eval::evaluate_lambada(ctx, model, *tok, jsonl, "toy.jsonl", o).n, 1);
  EXPECT_THROW(eval::evaluate_lambada(ctx, model, *tok, "{\"text\": \"nospace\"}\n", "bad.jsonl", o), Error);
  try {
    eval::evaluate_lambada(ctx, model, *tok, jsonl + "not json\n", "bad.jsonl", {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:4"), std::string::npos) << e.what();
  }
}

TEST(EvalBlimp, PairsPerParadigmAndPhenomenonFromJsonlAndXz) {
  ops::Context ctx(2);
  const test::ToyModel model;
  const auto tok = test::toy_tokenizer(false);
  const std::filesystem::path dir = test::temp_path("blimp");
  std::filesystem::create_directories(dir);
  struct Pair {
    std::string good, bad, uid, term;
  };
  const std::vector<Pair> pairs = {{"abc def", "abd cef", "p1", "agreement"},
                                   {"xyz", "zyx", "p1", "agreement"},
                                   {"mnop qr", "qr mnop", "p2", "islands"},
                                   {"hij", "hik", "p2", "islands"},
                                   {"stu", "uts", "p2", "islands"}};
  std::ofstream f1(dir / "p1.jsonl"), f2(dir / "p2.jsonl");
  for (const auto& p : pairs)
    (p.uid == "p1" ? f1 : f2) << nlohmann::json{{"sentence_good", p.good}, {"sentence_bad", p.bad},
                                                {"UID", p.uid}, {"linguistics_term", p.term}}.dump() << "\n";
  f1.close();
  f2.close();
  ASSERT_EQ(test::run_shell("xz '" + (dir / "p2.jsonl").string() + "'").code, 0);  // leaves p2.jsonl.xz
  eval::TaskOptions o;
  o.batch = 3;
  o.progress = false;
  const auto r = eval::evaluate_blimp(ctx, model, *tok, dir.string(), o);
  auto score = [](const std::string& s) {
    std::vector<int32_t> seq = {test::kToyBos};
    seq.insert(seq.end(), s.begin(), s.end());
    const auto lp = expected_logprobs(seq, 0);
    return std::accumulate(lp.begin(), lp.end(), 0.0);
  };
  int64_t right[2] = {0, 0};
  for (const auto& p : pairs) right[p.uid == "p2"] += score(p.good) > score(p.bad);
  ASSERT_EQ(r.paradigms.size(), 2u);
  EXPECT_EQ(r.paradigms[0].name, "p1");
  EXPECT_EQ(r.paradigms[0].n, 2);
  EXPECT_EQ(r.paradigms[0].correct, right[0]);
  EXPECT_EQ(r.paradigms[1].n, 3);
  EXPECT_EQ(r.paradigms[1].correct, right[1]);
  ASSERT_EQ(r.phenomena.size(), 2u);
  EXPECT_EQ(r.phenomena[1].name, "islands");
  EXPECT_EQ(r.phenomena[1].correct, right[1]);
  EXPECT_EQ(r.overall.n, 5);
  EXPECT_EQ(r.overall.correct, right[0] + right[1]);
  std::filesystem::remove_all(dir);
  EXPECT_THROW(eval::evaluate_blimp(ctx, model, *tok, dir.string(), o), Error);
}

TEST(EvalScorer, BatchedEqualsOneAtATime) {
  ops::Context ctx(2);
  const test::ToyModel model;
  std::vector<eval::Sequence> seqs;
  core::Rng rng(9);
  for (int i = 0; i < 11; ++i) {
    eval::Sequence s;
    for (int64_t t = 0, n = 2 + (int64_t)rng.below(20); t < n; ++t) s.tokens.push_back((int32_t)rng.below(256));
    s.first = (int64_t)rng.below(s.tokens.size() - 1);
    seqs.push_back(s);
  }
  eval::ScorerOptions o;
  o.progress = false;
  o.batch = 1;
  const auto one = eval::Scorer(ctx, model, &model, o).score(seqs);
  o.batch = 4;
  const auto many = eval::Scorer(ctx, model, &model, o).score(seqs);
  for (size_t i = 0; i < seqs.size(); ++i) {
    EXPECT_EQ(one[i].logprob, many[i].logprob) << i;
    EXPECT_EQ(one[i].kl, many[i].kl) << i;
    const auto want = expected_logprobs(seqs[i].tokens, seqs[i].first);
    ASSERT_EQ(many[i].logprob.size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) EXPECT_NEAR(many[i].logprob[j], want[j], 1e-6);
  }
  eval::Sequence empty;
  empty.tokens = {1};
  EXPECT_THROW(eval::Scorer(ctx, model, nullptr, o).score({empty}), Error);
}

}  // namespace
}  // namespace llamba
