// runtime/memory_limit.h and memory_budget.h: sizes as --max-memory takes them, the machine's available memory
// from /proc/meminfo and cgroup text, and the estimate against what forwards really allocate: the states exactly,
// the arena's temporaries within the bound, the weights as read (an untied embedding only at the tokens fed). The
// estimate against whole processes is in test_memory_cli.cpp.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "distill/tiny_teacher.h"
#include "io/gguf.h"
#include "models/tiny_llamba.h"
#include "models/tiny_mamba2.h"
#include "ops/memory.h"
#include "runtime/memory_budget.h"
#include "test_util.h"

namespace llamba {
namespace {

using runtime::MemoryNeed;
using runtime::Workload;

struct Loaded {
  std::unique_ptr<io::GgufFile> file;
  std::unique_ptr<models::Model> model;
  explicit Loaded(const std::string& path)
      : file(std::make_unique<io::GgufFile>(io::GgufFile::open(path))), model(models::load_model(*file)) {}
};

TEST(MemorySize, UnitsArePowersOf1024) {
  EXPECT_EQ(runtime::parse_memory_size("8G", "--max-memory"), int64_t(8) << 30);
  EXPECT_EQ(runtime::parse_memory_size("512M", "--max-memory"), int64_t(512) << 20);
  EXPECT_EQ(runtime::parse_memory_size("1.5g", "--max-memory"), int64_t(3) << 29);
  EXPECT_EQ(runtime::parse_memory_size("64KiB", "--max-memory"), 65536);
  EXPECT_EQ(runtime::parse_memory_size("100MB", "--max-memory"), int64_t(100) << 20);
  EXPECT_EQ(runtime::parse_memory_size(" 2T ", "--max-memory"), int64_t(2) << 40);
  EXPECT_EQ(runtime::parse_memory_size("123456", "--max-memory"), 123456);
  EXPECT_EQ(runtime::parse_memory_size("123456b", "--max-memory"), 123456);
}

TEST(MemorySize, BadSizesNameTheFlagAndSayWhatIsWrong) {
  const std::pair<const char*, const char*> bad[] = {
      {"", "is not a memory size"},      {"abc", "is not a memory size"}, {"G", "is not a memory size"},
      {"1..2G", "is not a memory size"}, {"-1G", "is not a memory size"}, {"8X", "has an unknown unit"},
      {"8 GiBs", "has an unknown unit"}, {"1e3", "has an unknown unit"},  {"0", "is less than one byte"},
      {"0.1", "is less than one byte"},  {"9999999T", "is too large"}};
  for (const auto& [text, why] : bad) {
    try {
      runtime::parse_memory_size(text, "--max-memory");
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind(std::string("--max-memory: '") + text + "' " + why, 0), 0u) << m;
      EXPECT_NE(m.find("e.g. 8G or 512M"), std::string::npos) << m;
    }
  }
}

TEST(MemorySize, FormatsThreeDigits) {
  EXPECT_EQ(runtime::format_bytes(512), "512 B");
  EXPECT_EQ(runtime::format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(runtime::format_bytes(int64_t(92) << 20), "92.0 MiB");
  EXPECT_EQ(runtime::format_bytes(int64_t(300) << 20), "300 MiB");
  EXPECT_EQ(runtime::format_bytes(int64_t(5) << 30), "5.00 GiB");
}

TEST(MemoryLimit, MeminfoAndCgroupFiles) {
  const char* meminfo = "MemTotal:       24683772 kB\nMemFree:         1000000 kB\nMemAvailable:   23786440 kB\n";
  EXPECT_EQ(runtime::meminfo_available(meminfo), int64_t(23786440) * 1024);
  EXPECT_EQ(runtime::meminfo_available("MemTotal: 5 kB\n"), std::nullopt);
  // v2: limit, usage, and the inactive file pages the kernel would reclaim first.
  EXPECT_EQ(runtime::cgroup_available("1073741824\n", "536870912\n", "anon 1\ninactive_file 104857600\n"),
            int64_t(1073741824) - 536870912 + 104857600);
  EXPECT_EQ(runtime::cgroup_available("max\n", "536870912\n", ""), std::nullopt);
  // v1: "unlimited" is a huge number; the group's total_inactive_file counts, not its own inactive_file.
  EXPECT_EQ(runtime::cgroup_available("9223372036854771712\n", "5\n", ""), std::nullopt);
  EXPECT_EQ(runtime::cgroup_available("2000\n", "1500\n", "inactive_file 7\ntotal_inactive_file 100\n"), 600);
  EXPECT_EQ(runtime::cgroup_available("1000\n", "1500\n", ""), 0) << "a group over its limit has nothing left";
  EXPECT_EQ(runtime::cgroup_available("", "", ""), std::nullopt);
}

TEST(MemoryLimit, TheFlagOrTheMachine) {
  const runtime::MemoryLimit flag = runtime::memory_limit("2G");
  EXPECT_TRUE(flag.from_flag);
  EXPECT_EQ(flag.bytes, int64_t(2) << 30);
  EXPECT_EQ(flag.source, "--max-memory 2G");
  const runtime::MemoryLimit machine = runtime::memory_limit("");
  EXPECT_FALSE(machine.from_flag);
  ASSERT_GT(machine.bytes, 0) << "Linux has /proc/meminfo";
  EXPECT_NE(machine.source.find("MemAvailable"), std::string::npos)
      << machine.source << " (a cgroup's limit is fine too, if it is what bounds this machine)";
}

// Σ bytes() of `S` states after a prefill of `prompt` tokens and decode steps up to `total` tokens each.
int64_t allocated_states(const models::Model& model, int64_t S, int64_t prompt, int64_t total) {
  ops::Context ctx(2);
  models::FreshStates st(model, S);
  const int64_t V = model.info().n_vocab;
  std::mt19937 rng(3);
  std::vector<int32_t> toks((size_t)(S * prompt));
  for (auto& t : toks) t = (int32_t)(rng() % V);
  std::vector<float> logits((size_t)(S * V));
  model.forward(ctx, toks, S, st.ptrs, core::view_f32(logits, {S, V}));
  for (int64_t n = prompt; n < total; ++n) {
    std::vector<int32_t> step((size_t)S, 1);
    model.forward(ctx, step, S, st.ptrs, core::view_f32(logits, {S, V}));
  }
  int64_t bytes = 0;
  for (auto* s : st.ptrs) bytes += s->bytes();
  return bytes;
}

TEST(MemoryBudget, StatesAreWhatForwardsAllocate) {
  // A KV cache at the capacity it grows to (64 rows, doubling), recurrent states constant.
  Loaded llama(test::tiny_teacher_path());
  for (const auto& [prompt, total] : {std::pair{10, 64}, std::pair{10, 65}, std::pair{70, 130}, std::pair{200, 200}}) {
    Workload w;
    w.sequences = 3;
    w.tokens = total;
    const MemoryNeed n = runtime::estimate_memory(*llama.model, w);
    EXPECT_TRUE(n.kv_cache);
    EXPECT_EQ(n.states, allocated_states(*llama.model, 3, prompt, total)) << prompt << " + decode to " << total;
    EXPECT_EQ(n.state_growth, 0) << "the tiny model's K/V blocks are far below the block cache's 1 MiB";
  }
  Loaded llamba(test::write_tiny_llamba({}, 3, "budget_states"));
  Workload w;
  w.sequences = 2;
  w.tokens = 500;  // ignored: a recurrent state does not grow
  const MemoryNeed n = runtime::estimate_memory(*llamba.model, w);
  EXPECT_FALSE(n.kv_cache);
  EXPECT_EQ(n.states, allocated_states(*llamba.model, 2, 30, 40));
  EXPECT_EQ(n.state_growth, 0);
}

TEST(MemoryBudget, GrowthCountsTheFreedBlocksTheAllocatorKeeps) {
  // SmolLM2's shape: a K or V tensor holds 768 bytes a row, so capacities of 2048 rows and more (1.5 MiB) are
  // kept when freed; growing to 8192 rows frees 60 tensors at 4096, 2048, 1024, ... rows.
  const std::string path = test::default_model_path();
  if (path.empty()) GTEST_SKIP() << "default model not installed";
  Loaded m(path);
  const int64_t tensor_row = 768, tensors = 60;
  ASSERT_EQ(m.model->state_bytes(1), tensors * tensor_row);
  EXPECT_EQ(runtime::sequence_growth_bytes(*m.model, 1500), 0);
  EXPECT_EQ(runtime::sequence_growth_bytes(*m.model, 4096), tensors * 2048 * tensor_row);
  EXPECT_EQ(runtime::sequence_growth_bytes(*m.model, 8192), tensors * (4096 + 2048) * tensor_row);
  EXPECT_EQ(runtime::sequence_state_bytes(*m.model, 5000), tensors * 8192 * tensor_row);
}

TEST(MemoryBudget, TemporariesBoundWhatTheArenaHolds) {
  // Shapes large enough that the arena outgrows its first 1 MiB block.
  test::TinyLlambaShape ls;
  ls.vocab = 500, ls.d_model = 128, ls.ffn = 320, ls.d_inner = 192, ls.n_heads = 6, ls.n_groups = 2;
  test::TinyMamba2Shape ms;
  ms.vocab = 500, ms.d_model = 128, ms.n_heads = 8, ms.head_dim = 32;
  for (const std::string& path : {test::write_tiny_llamba(ls, 4, "budget_arena"),
                                  test::write_tiny_mamba2(ms, 4, "budget_arena_m2")}) {
    Loaded m(path);
    for (const auto& [B, T] : {std::pair{1, 300}, std::pair{3, 200}, std::pair{8, 1}}) {
      ops::Context ctx(2);
      models::FreshStates st(*m.model, B);
      const int64_t V = m.model->info().n_vocab;
      std::vector<int32_t> toks((size_t)(B * T), 7);
      std::vector<float> logits((size_t)(B * V));
      m.model->forward(ctx, toks, B, st.ptrs, core::view_f32(logits, {B, V}));
      Workload w;
      w.sequences = B, w.rows = B, w.row_tokens = T, w.logits_rows = B;
      const MemoryNeed n = runtime::estimate_memory(*m.model, w);
      const int64_t held = (int64_t)ctx.arena().reserved();
      const int64_t first_block = int64_t(1) << 20;  // the arena's smallest, inside the fixed allowance
      EXPECT_LE(held, std::max(n.scratch, first_block)) << path << " B " << B << " T " << T;
      // Within a stated bound the other way: the per-token bound is at most 6 times what the arena holds.
      if (held > first_block) {
        EXPECT_LE(n.scratch, 6 * held) << path << " B " << B << " T " << T;
      }
      std::printf("%s B %d T %d: arena %lld, estimate %lld\n", m.model->info().name.c_str(), B, T,
                  (long long)held, (long long)n.scratch);
    }
  }
}

TEST(MemoryBudget, WeightsAsReadAndAnUntiedEmbeddingOnlyAtTheTokensFed) {
  test::TinyLlambaShape s;
  s.tied = false;
  Loaded m(test::write_tiny_llamba(s, 5, "budget_untied"));
  int64_t all = 0, embd = 0;
  m.model->for_each_tensor([&](const std::string& name, const core::TensorView& t) {
    all += t.nbytes();
    if (name == "token_embd.weight") embd = t.nbytes();
  });
  Workload w;
  EXPECT_EQ(runtime::estimate_memory(*m.model, w).weights, all);
  w.tokens_fed = 10;
  EXPECT_EQ(runtime::estimate_memory(*m.model, w).weights, all - embd + embd / s.vocab * 10);
  w.tokens_fed = 1000000;
  EXPECT_EQ(runtime::estimate_memory(*m.model, w).weights, all);
  // Tied, the embedding is the head and is read whole.
  Loaded tied(test::write_tiny_llamba({}, 5, "budget_tied"));
  int64_t tied_all = 0;
  tied.model->for_each_tensor([&](const std::string&, const core::TensorView& t) { tied_all += t.nbytes(); });
  EXPECT_EQ(runtime::estimate_memory(*tied.model, w).weights, tied_all);
  EXPECT_LE(tied_all, (int64_t)tied.file->buffer()->size());
}

TEST(MemoryBudget, TheRefusalSaysWhatIsNeededPartByPartAndTheLimit) {
  Loaded m(test::tiny_teacher_path());
  Workload w;
  w.sequences = 4, w.tokens = 1000, w.rows = 4, w.row_tokens = 1000, w.logits_rows = 4;
  MemoryNeed n = runtime::estimate_memory(*m.model, w);
  n.extra = 1 << 20, n.extra_what = "state cache";
  const runtime::MemoryLimit limit = runtime::memory_limit("1M");
  try {
    runtime::require_fits(n, limit, "llamba serve", "lower --parallel");
    FAIL() << "not refused";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("llamba serve needs " + runtime::format_bytes(n.total()) + " of memory: weights ", 0), 0u) << m;
    for (const std::string part : {"KV cache", "4 sequences of 1,000 tokens", "scratch", "temporaries", "logits",
                                   "allowance 64.0 MiB", "state cache 1.00 MiB", "--max-memory 1M is 1.00 MiB",
                                   "---> HINT: lower --parallel"})
      EXPECT_NE(m.find(part), std::string::npos) << part << " in: " << m;
  }
  EXPECT_NO_THROW(runtime::require_fits(n, runtime::memory_limit(std::to_string(n.total())), "x", "y"));
  EXPECT_THROW(runtime::require_fits(n, runtime::memory_limit(std::to_string(n.total() - 1)), "x", "y"), Error);
}

TEST(MemoryBudget, AgainstTheMachineOnlyWhatIsKnownMustFit) {
  Loaded m(test::tiny_teacher_path());
  const MemoryNeed n = runtime::estimate_memory(*m.model, Workload{});
  runtime::MemoryLimit machine{n.known() + 1, false, "the memory available (test)"};
  EXPECT_LT(machine.bytes, n.total());
  EXPECT_NO_THROW(runtime::require_fits(n, machine, "llamba run", "h")) << "the allowance is not held against it";
  machine.bytes = n.known() - 1;
  try {
    runtime::require_fits(n, machine, "llamba run", "h");
    FAIL() << "not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("without the allowance"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("the memory available (test) is"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(runtime::require_fits(n, {0, false, "unknown"}, "llamba run", "h")) << "no limit known";
}

}  // namespace
}  // namespace llamba
