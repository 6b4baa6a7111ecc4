// Model-level checks shared by the per-architecture mode tests: snapshot/restore/fork/save-load against an
// uninterrupted run, and a batch of two against two singles (generic over models::Model); and the fixture
// RecurrentModesTest with the mode equivalences every recurrent model (Llamba, Mamba-2, GateLoop) must prove:
// chunked = recurrent = the model's other forms, prefill + decode = one forward, prefill -> decode -> prefill =
// one shot.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "ops/context.h"
#include "io/gguf.h"
#include "models/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace llamba::test {

// Snapshot at 30 tokens, continue 20, wander off, restore, continue the same 20: bit-identical logits; a fork
// and a save/load round trip continue exactly like the original. `ids` needs >= 53 tokens.
inline void expect_snapshot_restore_equals_uninterrupted(const models::Model& model, ops::Context& ctx,
                                                         const std::vector<int32_t>& ids, const std::string& path) {
  ASSERT_GE(ids.size(), 53u);
  runtime::Session s(model, ctx);
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
  runtime::Session l(model, ctx);
  l.load_state(path);
  l.prefill(std::span(ids).subspan(50, 3));
  const std::vector<float> sl(s.logits().begin(), s.logits().end());
  EXPECT_EQ(sl, std::vector<float>(f.logits().begin(), f.logits().end())) << "fork";
  EXPECT_EQ(sl, std::vector<float>(l.logits().begin(), l.logits().end())) << "save/load";
}

// Rows ids[0, T) and ids[20, 20 + T) as one batch of two equal the rows run alone (T = 40).
inline void expect_batch_equals_singles(const models::Model& model, ops::Context& ctx,
                                        const std::vector<int32_t>& ids, double tol) {
  const int64_t T = 40, V = model.info().n_vocab;
  ASSERT_GE(ids.size(), (size_t)(20 + T));
  std::vector<int32_t> both(ids.begin(), ids.begin() + T);
  both.insert(both.end(), ids.begin() + 20, ids.begin() + 20 + T);
  models::FreshStates two(model, 2);
  std::vector<float> batched(2 * T * V);
  models::ForwardOptions o;
  o.all_logits = true;
  model.forward(ctx, both, 2, two.ptrs, core::view_f32(batched, {2, T, V}), o);
  for (int r = 0; r < 2; ++r) {
    models::FreshStates one(model, 1);
    std::vector<float> single(T * V);
    model.forward(ctx, std::span(both).subspan(r * T, T), 1, one.ptrs, core::view_f32(single, {1, T, V}), o);
    EXPECT_LE(rel_max_error(batched.data() + r * T * V, single.data(), T * V), tol) << "row " << r;
  }
  // Pooled states (new_states: each layer's tensors of both rows in one pool, which the batched ops update in
  // place) give the bits of separate states: the prompt, then three decode steps of one token per row.
  models::FreshStates pooled(model, 2, ctx), apart(model, 2);
  for (int step = -1; step < 3; ++step) {
    std::vector<int32_t> in = both;
    if (step >= 0) in = {ids[step], ids[step + 1]};
    const int64_t n = (int64_t)in.size() / 2;
    std::vector<float> lp(2 * n * V), la(2 * n * V);
    model.forward(ctx, in, 2, pooled.ptrs, core::view_f32(lp, {2, n, V}), o);
    model.forward(ctx, in, 2, apart.ptrs, core::view_f32(la, {2, n, V}), o);
    EXPECT_EQ(std::memcmp(lp.data(), la.data(), lp.size() * sizeof(float)), 0) << "pooled states, step " << step;
  }
  for (int r = 0; r < 2; ++r) {
    const auto& a = dynamic_cast<const models::RecurrentState&>(*pooled.ptrs[r]);
    const auto& b = dynamic_cast<const models::RecurrentState&>(*apart.ptrs[r]);
    for (size_t l = 0; l < a.layers.size(); ++l) {
      for (auto m : {&models::RecurrentState::Layer::conv, &models::RecurrentState::Layer::ssm,
                     &models::RecurrentState::Layer::ssm_im}) {
        const core::Tensor &ta = a.layers[l].*m, &tb = b.layers[l].*m;
        ASSERT_EQ(ta.empty(), tb.empty());
        if (!ta.empty()) {
          EXPECT_EQ(std::memcmp(ta.view().data, tb.view().data, ta.view().nbytes()), 0) << "row " << r << " layer " << l;
        }
      }
    }
  }
}

// A tiny random recurrent model read from a GGUF file and 71 random token ids (T = 71 is a multiple of no chunk
// length used below). ModelT is a models::RecurrentLanguageModel whose mixer-form enum is Form. A per-architecture
// fixture derives from this, writes its model in SetUp and calls load().
template <class ModelT, class Form>
class RecurrentModesTest : public ::testing::TestWithParam<int> {
 protected:
  void load(const std::string& path, uint64_t ids_seed) {
    path_ = path;
    file_ = std::make_unique<io::GgufFile>(io::GgufFile::open(path_));
    model_ = std::make_unique<ModelT>(*file_);
    V_ = model_->info().n_vocab;
    core::Rng rng(ids_seed);
    for (int i = 0; i < 71; ++i) ids_.push_back((int32_t)rng.below(V_));
  }

  // Logits (T, V) of ids[begin, end) continuing `st`, with the given mixer form.
  std::vector<float> run(models::SequenceState& st, int64_t begin, int64_t end, Form form, int64_t chunk,
                         const models::Observer* obs = nullptr) {
    std::vector<float> out((end - begin) * V_);
    models::SequenceState* sp = &st;
    models::ForwardOptions o;
    o.all_logits = true;
    o.observer = obs;
    model_->forward_with(ctx_, std::span(ids_).subspan(begin, end - begin), 1, {&sp, 1}, core::view_f32(out, {1, end - begin, V_}),
                         o, form, chunk);
    return out;
  }

  // Logits (V) of the one token ids[t] continuing `st`, through Model::forward: the runtime's decode path, which
  // takes the model's decode form (Llamba, Mamba-2: recurrent; GateLoop: the step op). The chunk length is
  // ignored by those forms.
  std::vector<float> decode(models::SequenceState& st, int64_t t) {
    std::vector<float> out(V_);
    models::SequenceState* sp = &st;
    models::ForwardOptions o;
    o.all_logits = true;
    model_->forward(ctx_, std::span(ids_).subspan(t, 1), 1, {&sp, 1}, core::view_f32(out, {1, 1, V_}), o);
    return out;
  }

  // The reference of every check: the whole sequence through the recurrent form from an empty state.
  std::vector<float> one_shot() {
    auto st = model_->new_state();
    return run(*st, 0, ids_.size(), Form::kRecurrent, 1);
  }

  // Chunked prefill (chunk 1, 7, 64, T) and each form of `others` (named) over the whole sequence equal the
  // recurrent one shot to `tol` of max |logit|; prints each form's error.
  void expect_forms_agree(std::initializer_list<std::pair<Form, const char*>> others, double tol) {
    const auto ref = one_shot();
    const int64_t T = ids_.size();
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    double worst = 0;
    const auto check = [&](const std::vector<float>& got, const std::string& what) {
      const double err = rel_max_error(got.data(), ref.data(), ref.size());
      EXPECT_LE(err, tol) << what;
      std::printf("%s: %s vs recurrent %.3g\n", test.c_str(), what.c_str(), err);
      worst = std::max(worst, err);
    };
    for (int64_t chunk : {int64_t(1), int64_t(7), int64_t(64), T}) {
      auto st = model_->new_state();
      check(run(*st, 0, T, Form::kChunked, chunk), "chunk " + std::to_string(chunk));
    }
    for (const auto& [form, name] : others) {
      auto st = model_->new_state();
      check(run(*st, 0, T, form, 0), name);
    }
    std::printf("%s: worst form vs recurrent %.3g\n", test.c_str(), worst);
  }

  // Chunked prefill of 29 tokens (chunk 7), then teacher-forced single-token decode of the rest, equals the one
  // shot to `tol`, and the state counts every token.
  void expect_prefill_then_decode_equals_one_forward(double tol) {
    const auto ref = one_shot();
    const int64_t T = ids_.size(), split = 29;
    auto st = model_->new_state();
    auto got = run(*st, 0, split, Form::kChunked, 7);
    for (int64_t t = split; t < T; ++t) {
      const auto step = decode(*st, t);
      got.insert(got.end(), step.begin(), step.end());
    }
    EXPECT_LE(rel_max_error(got.data(), ref.data(), ref.size()), tol);
    EXPECT_EQ(st->n_past, T);
  }

  // Chunked prefills (chunk 16) alternating with single-token decodes continue one another like the one shot.
  // Includes continuations shorter than a conv window (1 and 2 tokens; Llamba, Mamba-2), so the conv state spans
  // the boundary.
  void expect_prefill_decode_prefill_equals_one_shot(double tol) {
    const auto ref = one_shot();
    const int64_t T = ids_.size();
    auto st = model_->new_state();
    std::vector<float> got;
    const std::pair<int64_t, int64_t> pieces[] = {{0, 2}, {2, 3}, {3, 20}, {20, 21}, {21, 22}, {22, 50}, {50, T}};
    for (auto [b, e] : pieces) {
      const auto part = e - b == 1 ? decode(*st, b) : run(*st, b, e, Form::kChunked, 16);
      got.insert(got.end(), part.begin(), part.end());
    }
    EXPECT_LE(rel_max_error(got.data(), ref.data(), ref.size()), tol);
    EXPECT_EQ(st->n_past, T);
  }

  std::string path_;
  std::unique_ptr<io::GgufFile> file_;
  std::unique_ptr<ModelT> model_;
  ops::Context ctx_{2};
  std::vector<int32_t> ids_;
  int64_t V_ = 0;
};

}  // namespace llamba::test
