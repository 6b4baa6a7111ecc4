// Model-level checks shared by the per-architecture mode tests: snapshot/restore/fork/save-load against an
// uninterrupted run, and a batch of two against two singles. Generic over models::Model.
#pragma once

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "models/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace llamba::test {

// Snapshot at 30 tokens, continue 20, wander off, restore, continue the same 20: bit-identical logits; a fork
// and a save/load round trip continue exactly like the original. `ids` needs >= 53 tokens.
inline void expect_snapshot_restore_equals_uninterrupted(const models::Model& model, core::ThreadPool& pool,
                                                         const std::vector<int32_t>& ids, const std::string& path) {
  ASSERT_GE(ids.size(), 53u);
  runtime::Session s(model, pool);
  s.prefill(std::span(ids).first(30));
  const runtime::Snapshot snap = s.snapshot();
  s.prefill(std::span(ids).subspan(30, 20));
  const std::vector<float> first(s.logits().begin(), s.logits().end());
  s.prefill(std::span(ids).subspan(50, 3));  // wander off
  s.restore(snap);
  EXPECT_EQ(s.n_past(), 30);
  s.prefill(std::span(ids).subspan(30, 20));
  const std::vector<float> again(s.logits().begin(), s.logits().end());
  EXPECT_EQ(first, again) << "restore must give a bit-identical continuation";
  runtime::Session f = s.fork();
  s.save_state(path);
  s.prefill(std::span(ids).subspan(50, 3));
  f.prefill(std::span(ids).subspan(50, 3));
  runtime::Session l(model, pool);
  l.load_state(path);
  l.prefill(std::span(ids).subspan(50, 3));
  const std::vector<float> sl(s.logits().begin(), s.logits().end());
  EXPECT_EQ(sl, std::vector<float>(f.logits().begin(), f.logits().end())) << "fork";
  EXPECT_EQ(sl, std::vector<float>(l.logits().begin(), l.logits().end())) << "save/load";
}

// Rows ids[0, T) and ids[20, 20 + T) as one batch of two equal the rows run alone (T = 40).
inline void expect_batch_equals_singles(const models::Model& model, core::ThreadPool& pool,
                                        const std::vector<int32_t>& ids, double tol) {
  const int64_t T = 40, V = model.info().n_vocab;
  ASSERT_GE(ids.size(), (size_t)(20 + T));
  std::vector<int32_t> both(ids.begin(), ids.begin() + T);
  both.insert(both.end(), ids.begin() + 20, ids.begin() + 20 + T);
  models::FreshStates two(model, 2);
  std::vector<float> batched(2 * T * V);
  models::ForwardOptions o;
  o.all_logits = true;
  model.forward(pool, both, 2, two.ptrs, batched.data(), o);
  for (int r = 0; r < 2; ++r) {
    models::FreshStates one(model, 1);
    std::vector<float> single(T * V);
    model.forward(pool, std::span(both).subspan(r * T, T), 1, one.ptrs, single.data(), o);
    EXPECT_LE(rel_max_error(batched.data() + r * T * V, single.data(), T * V), tol) << "row " << r;
  }
}

}  // namespace llamba::test
