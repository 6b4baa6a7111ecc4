// Tokenizer throughput, single thread: encode of a whole text (default WikiText-2 test) with Llama-3
// (tokenizer.model), GPT-2 (tokenizer.json) and SmolLM2 (vocabulary GGUF), plus the pre-tokenizer alone.
// Environment: LLAMBA_BENCH_TEXT = a UTF-8 text file (.xz is decompressed), LLAMBA_BENCH_TOKENIZER = an extra
// tokenizer file to measure. tools/reference/bench_tokenizers.py runs this next to tiktoken and HF tokenizers.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "core/buffer.h"
#include "io/gguf.h"
#include "tokenizer/model.h"
#include "tokenizer/tokenizer.h"

namespace {

using llamba::tokenizer::Tokenizer;

std::string slurp(const std::string& path) {
  const bool xz = path.size() > 3 && path.compare(path.size() - 3, 3, ".xz") == 0;
  std::FILE* f = xz ? popen(("xz -dc '" + path + "'").c_str(), "r") : std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(1);
  }
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  xz ? pclose(f) : std::fclose(f);
  return s;
}

std::string repo(const std::string& rel) { return std::string(LLAMBA_SOURCE_DIR) + "/" + rel; }

const std::string& text() {
  static const std::string t = [] {
    const char* env = std::getenv("LLAMBA_BENCH_TEXT");
    return slurp(env ? env : repo("data/corpus/wikitext2_test.txt.xz"));
  }();
  return t;
}

std::unique_ptr<Tokenizer> load_any(const std::string& path) {
  if (path.size() > 8 && path.compare(path.size() - 8, 8, ".json.xz") == 0)
    return std::make_unique<Tokenizer>(llamba::tokenizer::load_hf_json(slurp(path), path, ""));
  if (path.size() > 8 && path.compare(path.size() - 8, 8, ".gguf.xz") == 0) {
    const std::string d = slurp(path);
    auto buf = llamba::core::Buffer::allocate(d.size());
    std::memcpy(buf->data(), d.data(), d.size());
    return Tokenizer::from_gguf(llamba::io::GgufFile::parse(buf, path));
  }
  return Tokenizer::load(path);
}

void run_encode(benchmark::State& state, const std::string& path) {
  const auto tok = load_any(path);
  const std::string& t = text();
  size_t n = 0;
  for (auto _ : state) {
    const auto ids = tok->encode(t, false, false);
    n = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)t.size());
  state.counters["tokens"] = (double)n;
}

void run_pretokenize(benchmark::State& state, const std::string& path) {
  const auto tok = load_any(path);
  const std::string& t = text();
  for (auto _ : state) {
    size_t pieces = 0;
    tok->pre_tokenizer().split(t, [&](std::string_view) { ++pieces; });
    benchmark::DoNotOptimize(pieces);
  }
  state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)t.size());
}

void register_all() {
  const std::string llama3 = repo("data/tokenizers/llama3/tokenizer.model");
  const std::string gpt2 = repo("data/tokenizers/gpt2/tokenizer.json.xz");
  const std::string smollm2 = repo("tests/fixtures/tokenizer/smollm2_vocab.gguf.xz");
  benchmark::RegisterBenchmark("encode/llama3", run_encode, llama3)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("encode/gpt2", run_encode, gpt2)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("encode/smollm2", run_encode, smollm2)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("pretokenize/llama3", run_pretokenize, llama3)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("pretokenize/gpt2", run_pretokenize, gpt2)->Unit(benchmark::kMillisecond);
  if (const char* extra = std::getenv("LLAMBA_BENCH_TOKENIZER"))
    benchmark::RegisterBenchmark("encode/extra", run_encode, std::string(extra))->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
