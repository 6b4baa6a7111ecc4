// The memory estimate of a workload and the refusal when it does not fit.
#include "runtime/memory_budget.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/check.h"

namespace llamba::runtime {

namespace {

// KvCache::reserve (models/state.cpp): the first reservation takes 64 rows, each later one doubles until it fits.
int64_t kv_capacity(int64_t tokens) {
  if (tokens <= 0) return 0;
  tokens = std::min(tokens, int64_t(1) << 40);  // past any machine; keeps the products below in range
  int64_t cap = 64;
  while (cap < tokens) cap *= 2;
  return cap;
}

// core::Buffer's block cache (core/buffer.cpp) keeps freed blocks of at least 1 MiB, up to 2 GiB in all.
constexpr int64_t kCachedBlockMin = int64_t(1) << 20, kBlockCacheMax = int64_t(2) << 30;

std::string thousands(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = (int)s.size() - 3; i > 0; i -= 3) s.insert((size_t)i, ",");
  return s;
}

// Per token, the widest a forward's temporaries get: the residual stream and its normed and output copies
// (3·D), every projection output of one layer (their rows: in/out projections, gate/up/down or q/k/v/o), and
// as much again for what the mixer derives from them (conv output, gated and normed copies), in f32. Blocks of the
// context's arena double in size, so what it reserves is up to twice what is live: counted twice.
int64_t temporaries_per_token(const models::Model& model) {
  int64_t rows = 0;
  model.for_each_tensor([&](const std::string& name, const core::TensorView& t) {
    if (t.data && t.rank() == 2 && name.rfind("blk.0.", 0) == 0) rows += t.size(0);
  });
  const int64_t D = model.info().d_model;
  return 2 * (int64_t)sizeof(float) * (3 * D + 2 * rows);
}

}  // namespace

int64_t sequence_state_bytes(const models::Model& model, int64_t tokens) {
  if (model.info().recurrent) return model.state_bytes(0);
  return model.state_bytes(kv_capacity(tokens));
}

int64_t sequence_growth_bytes(const models::Model& model, int64_t tokens) {
  if (model.info().recurrent) return 0;
  // Every layer's K and V are separate tensors; growing to `cap` freed each at cap/2, cap/4, ..., 64 rows.
  const int64_t tensors = 2 * std::max<int64_t>(1, model.info().n_layers);
  int64_t freed = 0;
  for (int64_t cap = kv_capacity(tokens) / 2; cap >= 64; cap /= 2) {
    const int64_t one = (model.state_bytes(cap) / tensors + 63) / 64 * 64;
    if (one >= kCachedBlockMin) freed += tensors * one;
  }
  return freed;
}

MemoryNeed estimate_memory(const models::Model& model, const Workload& w) {
  LLAMBA_CHECK(w.sequences >= 0 && w.tokens >= 0 && w.rows >= 0 && w.row_tokens >= 0 && w.logits_rows >= 0,
               "bad workload");
  MemoryNeed n;
  const models::ModelInfo& info = model.info();
  bool untied = false;
  model.for_each_tensor([&](const std::string& name, const core::TensorView& t) {
    untied = untied || (name == "output.weight" && t.data);
  });
  model.for_each_tensor([&](const std::string& name, const core::TensorView& t) {
    if (!t.data) return;
    int64_t bytes = t.nbytes();
    // An untied embedding is read only at the tokens' rows (the head has its own matrix).
    if (untied && name == "token_embd.weight" && w.tokens_fed >= 0 && t.size(0) > 0)
      bytes = bytes / t.size(0) * std::min(t.size(0), w.tokens_fed);
    n.weights += bytes;
  });
  n.kv_cache = !info.recurrent;
  n.states = w.sequences * sequence_state_bytes(model, w.tokens);
  n.state_growth = std::min(kBlockCacheMax, w.sequences * sequence_growth_bytes(model, w.tokens));
  n.states_what = n.kv_cache ? fmt::format("{} sequence{} of {} tokens", w.sequences, w.sequences == 1 ? "" : "s",
                                           thousands(w.tokens))
                             : fmt::format("{} sequence{}", w.sequences, w.sequences == 1 ? "" : "s");
  n.scratch = w.rows * w.row_tokens * temporaries_per_token(model);
  n.logits = w.logits_rows * info.n_vocab * (int64_t)sizeof(float);
  return n;
}

Workload generation_workload(const models::Model& model, int64_t past, int64_t prompt, int64_t max_tokens) {
  const int64_t context = model.info().context_length;
  Workload w;
  w.tokens = past + prompt + std::max<int64_t>(0, max_tokens);
  if (context > 0) w.tokens = max_tokens < 0 ? context : std::min(w.tokens, context);
  w.row_tokens = std::max<int64_t>(1, prompt);
  w.tokens_fed = w.tokens;
  return w;
}

MemoryNeed& MemoryNeed::operator+=(const MemoryNeed& o) {
  weights += o.weights, states += o.states, state_growth += o.state_growth, scratch += o.scratch;
  logits += o.logits, extra += o.extra;
  return *this;
}

std::string MemoryNeed::breakdown() const {
  std::string s = fmt::format("weights {} + {} {} ({}", format_bytes(weights), kv_cache ? "KV cache" : "states",
                              format_bytes(states + state_growth), states_what);
  if (state_growth > 0) s += fmt::format("; {} of it buffers freed as the caches grew", format_bytes(state_growth));
  s += fmt::format(") + scratch {} (temporaries {}, logits {}, allowance {})", format_bytes(scratch + logits + fixed),
                   format_bytes(scratch), format_bytes(logits), format_bytes(fixed));
  if (extra > 0) s += fmt::format(" + {} {}", extra_what, format_bytes(extra));
  return s;
}

void require_fits(const MemoryNeed& need, const MemoryLimit& limit, const std::string& command,
                  const std::string& hint) {
  const int64_t compared = limit.from_flag ? need.total() : need.known();
  if (limit.bytes <= 0 || compared <= limit.bytes) return;
  const std::string amount = limit.from_flag
                                 ? format_bytes(need.total())
                                 : fmt::format("{} ({} without the allowance)", format_bytes(need.total()),
                                               format_bytes(need.known()));
  LLAMBA_THROW("{} needs {} of memory: {}; {} is {}\n---> HINT: {}", command, amount, need.breakdown(),
               limit.source, format_bytes(limit.bytes), hint);
}

}  // namespace llamba::runtime
