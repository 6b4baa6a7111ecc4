// Pre-tokenization: splits text into pieces with a chain of PCRE2 regexes (UTF + UCP, JIT when available),
// each applied "isolated" (matches and the gaps between them both become pieces) to every piece of the step
// before. Also the named pre-tokenizers of GGUF files and the UTF-8 validity scan used before matching.
// Thread safety: a PreTokenizer is immutable after construction; split() may run on many threads at once
// (match scratch is per thread).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llamba::tokenizer {

// The split patterns of the model families we support, exactly as their upstream tokenizers spell them.
extern const char* const kLlama3Pattern;  // meta-llama/llama-models models/llama3/tokenizer.py
extern const char* const kGpt2Pattern;    // openai/gpt-2 src/encoder.py (HF ByteLevel use_regex=true)
extern const char* const kDigitsPattern;  // HF Digits(individual_digits=true): each \p{N} alone

// The regex chain for a GGUF `tokenizer.ggml.pre` name; empty if the name is unknown.
std::vector<std::string> pre_patterns_for(std::string_view pre_name);

// Length of the longest prefix of [p, p+n) that is valid UTF-8 (no overlongs, surrogates or > U+10FFFF).
size_t valid_utf8_prefix(const char* p, size_t n);
// Length of the invalid run starting at p: bytes up to the next position where a valid sequence starts.
size_t invalid_utf8_run(const char* p, size_t n);

class Regex;

class PreTokenizer {
 public:
  PreTokenizer();
  // Compiles each pattern; throws llamba::Error with the PCRE2 message and offset on a bad pattern. JIT is
  // used unless `jit` is false or the environment variable LLAMBA_TOKENIZER_NO_JIT is set.
  explicit PreTokenizer(std::vector<std::string> patterns, bool jit = true);
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  const std::vector<std::string>& patterns() const { return patterns_; }
  bool jit() const;

  // Calls fn(std::string_view piece) for every piece of `text` in order; the pieces tile `text` exactly.
  // Invalid UTF-8 never reaches the regexes: each maximal invalid run becomes one piece of its own.
  template <class Fn>
  void split(std::string_view text, Fn&& fn) const {
    split_impl(
        text, [](void* ctx, const char* p, size_t n) { (*static_cast<Fn*>(ctx))(std::string_view(p, n)); }, &fn);
  }

 private:
  using Sink = void (*)(void*, const char*, size_t);
  void split_impl(std::string_view text, Sink sink, void* ctx) const;
  void split_step(size_t step, const char* p, size_t n, Sink sink, void* ctx) const;

  std::vector<std::string> patterns_;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace llamba::tokenizer
