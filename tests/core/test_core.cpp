// Core: shapes and views, fp16/bf16 conversions against known values, the thread pool, the rng.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "core/dtype.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba {
namespace {

TEST(Tensor, ViewsSliceSelectReshape) {
  core::Tensor t = core::Tensor::zeros(core::DType::kF32, {2, 3, 4});
  for (int i = 0; i < 24; ++i) t.f32()[i] = (float)i;
  const auto s = t.view().slice(1, 1, 3);
  EXPECT_EQ(s.shape, core::Shape({2, 2, 4}));
  EXPECT_FALSE(s.is_contiguous());
  EXPECT_EQ(s.f32()[0], 4.0f);
  const auto sel = t.view().select(0, 1);
  EXPECT_EQ(sel.shape, core::Shape({3, 4}));
  EXPECT_EQ(sel.f32()[0], 12.0f);
  const core::Tensor c = core::Tensor::copy_of(s);
  EXPECT_EQ(c.f32()[4], 8.0f);   // c[0, 1, 0] = t[0, 2, 0]
  EXPECT_EQ(t.view().reshape({6, 4}).shape[-1], 4);
  EXPECT_EQ(core::Shape({5}).str(), "(5,)");
  core::Tensor q = core::Tensor::zeros(core::DType::kQ4_1, {3, 64});
  EXPECT_EQ(q.view().nbytes(), 3 * 2 * 20);
  EXPECT_EQ(q.view().slice(0, 1, 2).data, q.view().byte_ptr(64));
}

TEST(DType, HalfConversions) {
  EXPECT_EQ(core::fp16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(core::fp16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(core::fp16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(core::fp16_to_f32(0x7bff), 65504.0f);
  EXPECT_TRUE(std::isinf(core::fp16_to_f32(0x7c00)));
  EXPECT_TRUE(std::isnan(core::fp16_to_f32(0x7e00)));
  for (uint32_t h = 0; h < 0x10000; ++h) {  // every finite half survives f32 and back
    const float f = core::fp16_to_f32((uint16_t)h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(core::f32_to_fp16(f), (uint16_t)h) << h;
  }
  EXPECT_EQ(core::f32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie -> even
  EXPECT_EQ(core::f32_to_fp16(1e6f), 0x7c00);
  EXPECT_EQ(core::bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(core::f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie -> even
  EXPECT_EQ(core::f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
}

TEST(ThreadPool, CoversEveryIndexOnce) {
  core::ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    std::vector<std::atomic<int>> tasks(n);
    pool.run_tasks(n, [&](int64_t i) { tasks[i]++; });
    for (auto& h : tasks) ASSERT_EQ(h.load(), 1);
  }
  // Nested use runs inline instead of deadlocking.
  std::atomic<int> inner{0};
  pool.parallel_for(4, [&](int64_t, int64_t) { pool.parallel_for(3, [&](int64_t b, int64_t e) { inner += (int)(e - b); }); });
  EXPECT_EQ(inner.load(), 3 * 3);  // 3 outer ranges (pool size), each running the inner loop once
}

// Plain (non-atomic) data written before a loop, read and written inside it, and read after it: the pool's start
// and completion must order them (ThreadSanitizer checks this test; the one above uses atomics, which would hide a
// missing happens-before). Thousands of short loops exercise the spin-then-sleep hand-offs, and two pools driven
// from two threads at once show that pools share nothing.
TEST(ThreadPool, LoopsOrderPlainMemoryAcrossThreads) {
  auto drive = [](core::ThreadPool& pool, int salt) {
    std::vector<int64_t> in(97), out(97);
    for (int round = 0; round < 2000; ++round) {
      for (size_t i = 0; i < in.size(); ++i) in[i] = round * 1000 + (int64_t)i + salt;
      if (round % 2 == 0) {
        pool.parallel_for((int64_t)in.size(), [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) out[i] = 2 * in[i];
        });
      } else {
        pool.run_tasks((int64_t)in.size(), [&](int64_t i) { out[i] = 2 * in[i]; });
      }
      for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], 2 * in[i]) << "round " << round;
    }
  };
  core::ThreadPool a(3), b(2);
  std::thread other([&] { drive(b, 7); });
  drive(a, 0);
  other.join();
}

TEST(Rng, DeterministicAndRoughlyNormal) {
  core::Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(a.next_u64(), b.next_u64());
  double s = 0, s2 = 0;
  for (int i = 0; i < 20000; ++i) {
    const double x = a.normal();
    s += x;
    s2 += x * x;
  }
  EXPECT_NEAR(s / 20000, 0.0, 0.05);
  EXPECT_NEAR(s2 / 20000, 1.0, 0.05);
}

}  // namespace
}  // namespace llamba
