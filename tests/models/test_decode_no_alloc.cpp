// A decode step allocates nothing on the heap once the context's arena has grown to the model's needs: every
// temporary of the recurrent models' forward comes from ops::Scratch, the thread pool's loops take their callables
// by reference, and the CPU ops reuse per-thread buffers. Counted by replacing the global operator new in this
// binary; on a failure the first allocation's stack is printed.
#include <gtest/gtest.h>

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "io/gguf.h"
#include "models/model.h"
#include "ops/context.h"
#include "tiny_llamba.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_count{0};

void* counted(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed) && g_count.fetch_add(1) == 0) {
    g_counting = false;  // backtrace() may allocate
    void* frames[32];
    const int depth = backtrace(frames, 32);
    const char msg[] = "first heap allocation inside the counted window:\n";
    (void)!write(2, msg, sizeof msg - 1);
    backtrace_symbols_fd(frames, depth, 2);
    g_counting = true;
  }
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return counted(n, 0); }
void* operator new[](std::size_t n) { return counted(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted(n, (std::size_t)a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted(n, (std::size_t)a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace llamba {
namespace {

// Heap allocations of `fn`.
template <class Fn>
int64_t allocations(Fn&& fn) {
  g_count = 0;
  g_counting = true;
  fn();
  g_counting = false;
  return g_count.load();
}

// Prefill 5 tokens for `batch` rows, two warm-up decode steps, then counts the allocations of 4 more.
// `pooled`: the states of new_states (one pool per layer, updated in place).
void expect_decode_allocates_nothing(const std::string& path, int64_t batch, int threads, bool pooled) {
  const auto file = io::GgufFile::open(path);
  const auto model = models::load_model(file);
  ops::Context ctx(threads);
  models::FreshStates states = pooled ? models::FreshStates(*model, batch, ctx) : models::FreshStates(*model, batch);
  const int64_t V = model->info().n_vocab;
  std::vector<float> logits(batch * V);
  std::vector<int32_t> prompt(5 * batch), tok(batch);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = (int32_t)(i * 7 % V);
  std::vector<float> prompt_logits(batch * V);
  model->forward(ctx, prompt, batch, states.ptrs, core::view_f32(prompt_logits, {batch, V}));
  const auto step = [&](int s) {
    for (int64_t b = 0; b < batch; ++b) tok[b] = (int32_t)((s * 13 + b * 5) % V);
    model->forward(ctx, tok, batch, states.ptrs, core::view_f32(logits, {batch, V}));
  };
  step(0), step(1);
  const int64_t n = allocations([&] {
    for (int s = 2; s < 6; ++s) step(s);
  });
  EXPECT_EQ(n, 0) << path << ": batch " << batch << ", " << threads << " threads" << (pooled ? ", pooled" : "");
}

TEST(DecodeNoAlloc, Llamba) {
  test::TinyLlambaShape s;
  s.n_heads = 4, s.n_groups = 2;
  const std::string path = test::write_tiny_llamba(s, 3, "noalloc_llamba");
  for (int threads : {1, 2})
    for (int64_t batch : {1, 3})
      for (bool pooled : {false, true}) expect_decode_allocates_nothing(path, batch, threads, pooled);
}

}  // namespace
}  // namespace llamba
