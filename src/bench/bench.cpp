// The bench matrix: states brought to the depth once (untimed), cloned, then each repetition restores them and
// times only the forwards.
#include "bench/bench.h"

#include <chrono>
#include <cmath>
#include <random>

namespace llamba::bench {

namespace {

using Clock = std::chrono::steady_clock;

// The forward of `rows` sequences of `toks.size() / rows` tokens each, logits of each row's last position only.
void forward(ops::Context& ctx, const models::Model& model, const std::vector<int32_t>& toks, int64_t rows,
             models::FreshStates& st, core::Tensor& logits) {
  model.forward(ctx, toks, rows, st.ptrs, logits.view());
}

std::vector<int32_t> random_tokens(std::mt19937_64& rng, int64_t n, int64_t vocab) {
  std::uniform_int_distribution<int32_t> u(0, (int32_t)vocab - 1);
  std::vector<int32_t> t((size_t)n);
  for (int32_t& x : t) x = u(rng);
  return t;
}

// One (kind, n) test at a depth: the warm-up and the timed repetitions, each from the depth's states.
void time_test(ops::Context& ctx, const models::Model& model, const Spec& spec, std::mt19937_64& rng,
               const std::vector<std::unique_ptr<models::SequenceState>>& at_depth, Result& r) {
  const int64_t S = r.seqs, V = model.info().n_vocab;
  models::FreshStates st(model, S);
  core::Tensor logits = core::Tensor::zeros(core::DType::kF32, {S, V});
  const std::vector<int32_t> toks = random_tokens(rng, S * r.n, V);
  auto once = [&](int64_t steps) {
    for (int64_t s = 0; s < S; ++s) st.ptrs[s]->copy_from(*at_depth[s]);
    const auto t0 = Clock::now();
    if (r.kind == Kind::kPrefill) {
      forward(ctx, model, toks, S, st, logits);
    } else {
      std::vector<int32_t> step((size_t)S);
      for (int64_t i = 0; i < steps; ++i) {
        for (int64_t s = 0; s < S; ++s) step[s] = toks[s * r.n + i];
        forward(ctx, model, step, S, st, logits);
      }
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  once(1);  // warm-up: first-touch pages, caches, the pool's threads
  for (int k = 0; k < spec.reps; ++k) r.seconds.push_back(once(r.n));
  r.state_bytes = 0;
  for (int64_t s = 0; s < S; ++s) r.state_bytes += st.ptrs[s]->bytes();
}

}  // namespace

double Result::tokens_per_s_mean() const {
  double m = 0;
  for (double s : seconds) m += tokens() / s;
  return seconds.empty() ? 0 : m / seconds.size();
}

double Result::tokens_per_s_stddev() const {
  if (seconds.size() < 2) return 0;
  const double m = tokens_per_s_mean();
  double v = 0;
  for (double s : seconds) v += (tokens() / s - m) * (tokens() / s - m);
  return std::sqrt(v / (seconds.size() - 1));
}

std::string Result::test() const {
  std::string t = (kind == Kind::kPrefill ? "pp" : "tg") + std::to_string(n);
  if (depth > 0) t += " @ d" + std::to_string(depth);
  return t;
}

double ModelCost::flops(const Result& r) const {
  const double rows = r.kind == Kind::kPrefill ? r.seqs : (double)r.tokens();
  return 2.0 * ((double)body * r.tokens() + (double)head * rows);
}

double ModelCost::bytes(const Result& r) const {
  const double forwards = r.kind == Kind::kPrefill ? 1 : r.n;
  return forwards * ((double)weight_bytes + 2.0 * (double)r.state_bytes);
}

ModelCost model_cost(const models::Model& model) {
  ModelCost c;
  int64_t embd = 0;
  bool has_output = false;
  model.for_each_tensor([&](const std::string& name, const core::TensorView& t) {
    c.weight_bytes += t.nbytes();
    c.params += t.numel();
    if (name == "token_embd.weight") {
      embd = t.numel();
    } else if (name == "output.weight") {
      has_output = true;
      c.head = t.numel();
    } else if (t.rank() == 2) {
      c.body += t.numel();
    }
  });
  if (!has_output) c.head = embd;  // tied: the embedding is the head
  return c;
}

void validate(const Spec& spec) {
  LLAMBA_ENSURE(!spec.prefill.empty() || !spec.decode.empty(), "bench: no tests (give -p and/or -n sizes)");
  for (int64_t p : spec.prefill) LLAMBA_ENSURE(p > 0, "bench: prompt size (-p) {} must be positive", p);
  for (int64_t n : spec.decode) LLAMBA_ENSURE(n > 0, "bench: generation length (-n) {} must be positive", n);
  for (int64_t d : spec.depths) LLAMBA_ENSURE(d >= 0, "bench: depth (-d) {} must not be negative", d);
  for (int64_t s : spec.seqs) LLAMBA_ENSURE(s > 0, "bench: sequences (-b) {} must be positive", s);
  for (int t : spec.threads) LLAMBA_ENSURE(t >= 0, "bench: threads (-t) {} must not be negative", t);
  LLAMBA_ENSURE(!spec.depths.empty() && !spec.seqs.empty() && !spec.threads.empty(),
                "bench: -d, -b and -t need at least one value each");
  LLAMBA_ENSURE(spec.reps >= 1, "bench: repetitions (-r) {} must be at least 1", spec.reps);
}

std::vector<Result> run(const models::Model& model, const Spec& spec, uint64_t seed, const Progress& progress) {
  validate(spec);
  const size_t total =
      spec.threads.size() * spec.seqs.size() * spec.depths.size() * (spec.prefill.size() + spec.decode.size());
  std::vector<Result> out;
  std::mt19937_64 rng(seed);
  for (int threads : spec.threads) {
    ops::Context ctx(threads);
    for (int64_t S : spec.seqs)
      for (int64_t D : spec.depths) {
        // The depth, prefilled once in pieces of at most 512 tokens per row (untimed), then cloned per test.
        models::FreshStates st(model, S);
        core::Tensor logits = core::Tensor::zeros(core::DType::kF32, {S, model.info().n_vocab});
        for (int64_t done = 0; done < D;) {
          const int64_t n = std::min<int64_t>(512, D - done);
          forward(ctx, model, random_tokens(rng, S * n, model.info().n_vocab), S, st, logits);
          done += n;
        }
        std::vector<std::unique_ptr<models::SequenceState>> at_depth;
        for (auto* s : st.ptrs) at_depth.push_back(s->clone());
        auto one = [&](Kind kind, int64_t n) {
          Result r;
          r.kind = kind, r.n = n, r.depth = D, r.seqs = S, r.threads = ctx.n_threads();
          time_test(ctx, model, spec, rng, at_depth, r);
          out.push_back(r);
          if (progress) progress(out.size(), total, out.back());
        };
        for (int64_t p : spec.prefill) one(Kind::kPrefill, p);
        for (int64_t n : spec.decode) one(Kind::kDecode, n);
      }
  }
  return out;
}

}  // namespace llamba::bench
