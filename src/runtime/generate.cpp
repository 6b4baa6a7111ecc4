// generate(): prefill, then sample/decode; the text and its stop strings go through a TextStream.
#include "runtime/generate.h"

#include <chrono>

#include "runtime/text_stream.h"

namespace llamba::runtime {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
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
  TextStream text(tok, opts.stop);
  auto emit = [&](const std::string& out) { return out.empty() || on_text(out); };
  st.stop_reason = "length";
  for (int64_t i = 0; opts.max_tokens < 0 || i < opts.max_tokens; ++i) {
    const int32_t id = sampler.sample(session.logits(), session.tokens());
    if (!opts.ignore_eos && tok.is_eog(id)) {
      st.stop_reason = "eog";
      break;
    }
    st.tokens.push_back(id);
    ++st.n_generated;
    const std::string out = text.push(id);
    if (text.stopped()) {
      st.stop_reason = "stop";
      break;
    }
    if (!emit(out)) {
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
  emit(text.finish());
  st.decode_s = now_s() - t0;
  return st;
}

}  // namespace llamba::runtime
