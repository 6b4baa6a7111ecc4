// PCRE2-backed pre-tokenizer chain, the named GGUF pre-tokenizers and the UTF-8 scan.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/check.h"

namespace llamba::tokenizer {

const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*)"
    R"(|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kDigitsPattern = R"(\p{N})";

std::vector<std::string> pre_patterns_for(std::string_view name) {
  // ref: ggml-org/llama.cpp src/llama-vocab.cpp (regex_exprs per LLAMA_VOCAB_PRE_TYPE_*). llama.cpp spells
  // the contractions as '[sS]… instead of (?i:…) and drops the final |\s+ (its splitter keeps gaps anyway);
  // we keep the upstream tiktoken / HF spelling, which the fixtures check.
  if (name == "llama-bpe" || name == "llama3") return {kLlama3Pattern};
  if (name == "gpt-2" || name == "gpt2") return {kGpt2Pattern};
  // "smollm": SmolLM2's own tokenizer.json is Sequence[Digits(individual_digits), ByteLevel], and llama.cpp
  // agrees. transformers' GGUF loader (5.17, integrations/ggml.py GGUFLlamaConverter) differs: it gives
  // every gpt2-model llama-architecture file a plain ByteLevel pre-tokenizer, so "a  1234" splits "a"," ",
  // " 1234" there. We keep the model's real chain; a GGUF with pre "gpt-2" reproduces transformers (both are
  // fixture-checked, tests/tokenizer/test_tokenizer_smollm2.cpp).
  if (name == "smollm" || name == "starcoder" || name == "refact") return {kDigitsPattern, kGpt2Pattern};
  return {};
}

// ---------------------------------------------------------------------------------------------------------
// UTF-8 validity (the rules PCRE2 enforces: shortest form, no surrogates, at most U+10FFFF).

namespace {

// Length of the valid sequence at p (1..4), or 0 if the bytes at p do not start one.
inline size_t utf8_seq_len(const uint8_t* p, size_t n) {
  const uint8_t c = p[0];
  if (c < 0x80) return 1;
  auto cont = [&](size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

size_t valid_utf8_prefix(const char* s, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(s);
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {  // ASCII fast path, 8 bytes at a time
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const size_t k = utf8_seq_len(p + i, n - i);
    if (k == 0) return i;
    i += k;
  }
  return n;
}

size_t invalid_utf8_run(const char* s, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(s);
  size_t i = 0;
  while (i < n && utf8_seq_len(p + i, n - i) == 0) ++i;
  return i;
}

// ---------------------------------------------------------------------------------------------------------
// PCRE2 wrapper.

namespace {

// Per-thread match state: match data for the whole-match offsets and a JIT stack large enough for long
// pieces (PCRE2's default 32 KiB machine stack fails on very long runs of one class).
struct Scratch {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mc = nullptr;
  pcre2_jit_stack* js = nullptr;
  Scratch() {
    md = pcre2_match_data_create(1, nullptr);
    mc = pcre2_match_context_create(nullptr);
    js = pcre2_jit_stack_create(64 * 1024, 16 * 1024 * 1024, nullptr);
    LLAMBA_CHECK(md && mc && js, "PCRE2 out of memory");
    pcre2_jit_stack_assign(mc, nullptr, js);
  }
  ~Scratch() {
    pcre2_jit_stack_free(js);
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

class Regex {
 public:
  Regex(const std::string& pattern, bool jit) {
    int err = 0;
    PCRE2_SIZE off = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP, &err,
                          &off, nullptr);
    if (!code_) LLAMBA_THROW("bad pre-tokenizer regex at offset {}: {} (pattern {})", off, pcre2_message(err), pattern);
    jit_ = jit && pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
  }
  ~Regex() { pcre2_code_free(code_); }
  bool jit() const { return jit_; }

  // Finds the first match at or after `start` in the valid UTF-8 subject [p, p+n); false if none.
  bool find(const char* p, size_t n, size_t start, size_t* mb, size_t* me) const {
    Scratch& s = scratch();
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(p);
    int rc = PCRE2_ERROR_JIT_STACKLIMIT;
    if (jit_) rc = pcre2_jit_match(code_, subject, n, start, 0, s.md, s.mc);
    // The interpreter gives the same answer; it is the fallback when the JIT runs out of stack.
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) rc = pcre2_match(code_, subject, n, start, PCRE2_NO_UTF_CHECK, s.md, s.mc);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) LLAMBA_THROW("pre-tokenizer regex failed on a {}-byte piece: {}", n, pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.md);
    *mb = ov[0];
    *me = ov[1];
    return true;
  }

 private:
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

PreTokenizer::PreTokenizer() = default;
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

PreTokenizer::PreTokenizer(std::vector<std::string> patterns, bool jit) : patterns_(std::move(patterns)) {
  if (std::getenv("LLAMBA_TOKENIZER_NO_JIT")) jit = false;
  for (const auto& p : patterns_) regexes_.push_back(std::make_unique<Regex>(p, jit));
}

bool PreTokenizer::jit() const {
  for (const auto& r : regexes_)
    if (!r->jit()) return false;
  return !regexes_.empty();
}

void PreTokenizer::split_impl(std::string_view text, Sink sink, void* ctx) const {
  const char* p = text.data();
  size_t n = text.size();
  while (n > 0) {
    const size_t ok = valid_utf8_prefix(p, n);
    if (ok > 0) split_step(0, p, ok, sink, ctx);
    p += ok;
    n -= ok;
    if (n == 0) break;
    const size_t bad = invalid_utf8_run(p, n);
    sink(ctx, p, bad);
    p += bad;
    n -= bad;
  }
}

void PreTokenizer::split_step(size_t step, const char* p, size_t n, Sink sink, void* ctx) const {
  if (step == regexes_.size()) {
    sink(ctx, p, n);
    return;
  }
  const Regex& re = *regexes_[step];
  size_t pos = 0;      // where the next search starts
  size_t emitted = 0;  // end of the last piece passed on
  auto emit = [&](size_t b, size_t e) {
    if (e > b) split_step(step + 1, p + b, e - b, sink, ctx);
  };
  while (pos < n) {
    size_t mb, me;
    if (!re.find(p, n, pos, &mb, &me)) break;
    if (me == mb) {  // an empty match: step over one character, which stays in the gap
      pos = mb + std::max<size_t>(1, utf8_seq_len(reinterpret_cast<const uint8_t*>(p + mb), n - mb));
      continue;
    }
    emit(emitted, mb);  // the gap before the match
    emit(mb, me);
    emitted = pos = me;
  }
  emit(emitted, n);
}

}  // namespace llamba::tokenizer
