// generate(): prefill, then sample/decode; stop strings are matched on the decoded text, holding back any
// suffix that could still become a stop string.
#include "runtime/generate.h"

#include <chrono>

namespace llamba::runtime {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string.
size_t held_suffix(const std::string& text, const std::vector<std::string>& stop) {
  size_t held = 0;
  for (const auto& s : stop)
    for (size_t n = std::min(s.size() - 1, text.size()); n > held; --n)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        held = n;
        break;
      }
  return held;
}
}  // namespace

GenerateStats generate(Session& session, const tokenizer::Tokenizer& tok, std::span<const int32_t> prompt,
                       const GenerateOptions& opts, const std::function<bool(std::string_view)>& on_text) {
  GenerateStats st;
  Sampler sampler(opts.sampling);
  const int64_t ctx = session.model().info().context_length;
  double t0 = now_s();
  if (!prompt.empty()) {
    LLAMBA_ENSURE(ctx <= 0 || session.n_past() + (int64_t)prompt.size() <= ctx,
                  "the prompt ({} tokens) does not fit the model's context of {} tokens", prompt.size(), ctx);
    session.prefill(prompt);
  }
  LLAMBA_ENSURE(!session.logits().empty(), "nothing to continue from: empty prompt and no state");
  st.n_prompt = (int64_t)prompt.size();
  st.prefill_s = now_s() - t0;
  t0 = now_s();
  tokenizer::StreamDecoder dec(tok);
  std::string pending;  // decoded text not yet emitted (may be the start of a stop string)
  auto emit = [&](bool final) -> bool {
    size_t keep = final ? 0 : held_suffix(pending, opts.stop);
    if (pending.size() > keep) {
      const std::string out = pending.substr(0, pending.size() - keep);
      pending.erase(0, pending.size() - keep);
      return on_text(out);
    }
    return true;
  };
  st.stop_reason = "length";
  for (int64_t i = 0; opts.max_tokens < 0 || i < opts.max_tokens; ++i) {
    const int32_t id = sampler.sample(session.logits(), session.tokens());
    if (!opts.ignore_eos && tok.is_eog(id)) {
      st.stop_reason = "eog";
      break;
    }
    st.tokens.push_back(id);
    ++st.n_generated;
    pending += dec.push(id);
    bool stopped = false;
    for (const auto& s : opts.stop) {
      const size_t at = s.empty() ? std::string::npos : pending.find(s);
      if (at != std::string::npos) {
        pending.resize(at);
        stopped = true;
      }
    }
    if (stopped) {
      st.stop_reason = "stop";
      break;
    }
    if (!emit(false)) {
      st.stop_reason = "callback";
      break;
    }
    if (ctx > 0 && session.n_past() >= ctx) {
      st.stop_reason = "context";
      break;
    }
    if (opts.max_tokens >= 0 && i + 1 >= opts.max_tokens) break;  // no forward for a token nobody reads
    session.decode(id);
  }
  if (st.stop_reason != "stop") pending += dec.flush();
  emit(true);
  st.decode_s = now_s() - t0;
  return st;
}

}  // namespace llamba::runtime
