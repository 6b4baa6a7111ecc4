// LAMBADA and BLiMP over the Scorer (see tasks.h for the scoring rules).
#include "eval/tasks.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/check.h"
#include "eval/scorer.h"
#include "io/xz.h"

namespace llamba::eval {

namespace {

// The JSON objects of a jsonl text, with their 1-based line numbers; blank lines are skipped.
std::vector<std::pair<int64_t, nlohmann::json>> parse_jsonl(const std::string& text, const std::string& name,
                                                            int64_t limit) {
  std::vector<std::pair<int64_t, nlohmann::json>> out;
  size_t pos = 0;
  for (int64_t line = 1; pos < text.size() && (limit < 0 || (int64_t)out.size() < limit); ++line) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view s(text.data() + pos, end - pos);
    pos = end + 1;
    if (s.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
    LLAMBA_ENSURE(j.is_object(), "{}:{}: not a JSON object", name, line);
    out.emplace_back(line, std::move(j));
  }
  return out;
}

std::string string_field(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  LLAMBA_ENSURE(it != j.end() && it->is_string(), "{}: missing string field \"{}\"", where, key);
  return it->get<std::string>();
}

ScorerOptions scorer_options(const TaskOptions& o, const char* label) {
  ScorerOptions so;
  so.batch = o.batch;
  so.progress = o.progress;
  so.label = label;
  return so;
}

}  // namespace

double LambadaResult::accuracy_error() const {
  const double p = accuracy();
  return n > 1 ? std::sqrt(p * (1 - p) / (double)(n - 1)) : 0;
}
double LambadaResult::ppl_word() const { return n ? std::exp(-sum_logprob / (double)n) : 0; }
double LambadaResult::ppl_token() const { return target_tokens ? std::exp(-sum_logprob / (double)target_tokens) : 0; }

LambadaResult evaluate_lambada(ops::Context& ctx, const models::Model& model, const tokenizer::Tokenizer& tok,
                               const std::string& jsonl, const std::string& name, const TaskOptions& opts) {
  const bool bos = tok.add_bos_default() && tok.bos_id() >= 0;
  const int32_t prefix = tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id();
  std::vector<Sequence> seqs;
  for (const auto& [line, j] : parse_jsonl(jsonl, name, opts.limit)) {
    const std::string where = fmt::format("{}:{}", name, line);
    const std::string text = string_field(j, "text", where);
    const size_t cut = text.rfind(' ');
    LLAMBA_ENSURE(cut != std::string::npos && cut + 1 < text.size(), "{}: the text has no last word after a space",
                  where);
    const std::string context = text.substr(0, cut);
    // lm-eval's split: the target's tokens are those the whole text has beyond the context's count.
    const std::vector<int32_t> whole = tok.encode(text, bos, false), context_ids = tok.encode(context, bos, false);
    LLAMBA_ENSURE(context_ids.size() < whole.size(), "{}: the last word adds no tokens", where);
    Sequence s;
    s.tokens = context_ids;
    if (context_ids.empty()) s.tokens.push_back(prefix);  // nothing to condition on: the prefix token
    s.tokens.insert(s.tokens.end(), whole.begin() + (int64_t)context_ids.size(), whole.end());
    s.first = std::max<int64_t>(1, (int64_t)context_ids.size()) - 1;
    seqs.push_back(std::move(s));
  }
  LLAMBA_ENSURE(!seqs.empty(), "{}: no passages", name);
  Scorer scorer(ctx, model, nullptr, scorer_options(opts, "lambada"));
  LambadaResult r;
  for (const SequenceScores& s : scorer.score(seqs)) {
    ++r.n;
    r.correct += s.all_greedy();
    r.sum_logprob += s.sum_logprob();
    r.target_tokens += (int64_t)s.logprob.size();
  }
  r.forward_seconds = scorer.forward_seconds();
  r.tokens_run = scorer.tokens_run();
  return r;
}

BlimpResult evaluate_blimp(ops::Context& ctx, const models::Model& model, const tokenizer::Tokenizer& tok,
                           const std::string& dir, const TaskOptions& opts) {
  namespace fs = std::filesystem;
  LLAMBA_ENSURE(fs::is_directory(dir), "{}: not a directory (give the folder of BLiMP's .jsonl[.xz] files)", dir);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && (n.ends_with(".jsonl") || n.ends_with(".jsonl.xz"))) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  LLAMBA_ENSURE(!files.empty(), "{}: no BLiMP files (*.jsonl or *.jsonl.xz)", dir);
  const int32_t prefix = tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id();
  LLAMBA_ENSURE(prefix >= 0, "the tokenizer has neither BOS nor EOS to start a sentence with");
  std::vector<Sequence> seqs;  // good, bad, good, bad, ...
  std::vector<std::pair<size_t, std::string>> pair_of;  // (paradigm index, phenomenon) per pair
  BlimpResult r;
  for (const fs::path& f : files) {
    const std::string name = f.string();
    const auto rows = parse_jsonl(io::read_text_file(name), name, opts.limit);
    std::string uid = f.filename().string();
    uid = uid.substr(0, uid.find(".jsonl"));
    for (const auto& [line, j] : rows) {
      const std::string where = fmt::format("{}:{}", name, line);
      for (const char* key : {"sentence_good", "sentence_bad"}) {
        Sequence s;
        s.tokens = {prefix};
        tok.encode_into(string_field(j, key, where), false, false, s.tokens);
        LLAMBA_ENSURE(s.tokens.size() > 1, "{}: empty {}", where, key);
        seqs.push_back(std::move(s));
      }
      const auto term = j.find("linguistics_term");
      pair_of.emplace_back(r.paradigms.size(), term != j.end() && term->is_string() ? term->get<std::string>() : uid);
      if (const auto u = j.find("UID"); u != j.end() && u->is_string()) uid = u->get<std::string>();
    }
    r.paradigms.push_back({uid});
  }
  Scorer scorer(ctx, model, nullptr, scorer_options(opts, "blimp"));
  const auto scores = scorer.score(seqs);
  std::map<std::string, BlimpCount> by_term;
  for (size_t p = 0; p < pair_of.size(); ++p) {
    const bool right = scores[2 * p].sum_logprob() > scores[2 * p + 1].sum_logprob();
    for (BlimpCount* c : {&r.paradigms[pair_of[p].first], &by_term[pair_of[p].second], &r.overall}) {
      ++c->n;
      c->correct += right;
    }
  }
  for (auto& [term, c] : by_term) {
    c.name = term;
    r.phenomena.push_back(c);
  }
  r.forward_seconds = scorer.forward_seconds();
  r.tokens_run = scorer.tokens_run();
  return r;
}

}  // namespace llamba::eval
