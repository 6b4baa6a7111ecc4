// The models' small elementwise ops: cpu vs the fp64 reference on strided rows (sizes that take the threaded
// path too), −softplus at extreme inputs, shape errors that name the op; and the arena behind ops::Scratch.
#include "ops/elementwise.h"

#include <cmath>
#include <limits>
#include <string>

#include "op_test_util.h"
#include "ops/memory.h"

namespace llamba {
namespace {

// Runs `fn`, expecting llamba::Error whose message contains `part`.
template <class Fn>
void expect_error(Fn&& fn, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown, expected " << part;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

// Columns [1, 1 + F) of a (M, F + 3) tensor: rows with stride F + 3.
core::TensorView strided(const core::Tensor& t, int64_t F) { return t.view().slice(1, 1, 1 + F); }

TEST(Elementwise, MatchesReference) {
  for (auto [M, F] : {std::pair<int64_t, int64_t>{1, 7}, {3, 40}, {301, 128}}) {
    core::Rng rng(M + F);
    ops::Context ctx(2);
    const core::Tensor x = test::rand_tensor(rng, {M, F + 3}, 8.0), y0 = test::rand_tensor(rng, {M, F + 3});
    const core::Tensor d = test::rand_tensor(rng, {4});
    // Each op on a copy of y0, cpu in f32 and ref in f64 (from the same f32 inputs).
    const auto check = [&](const char* op, auto&& cpu, auto&& ref) {
      const core::Tensor yc = core::Tensor::copy_of(y0);
      core::Tensor yr = core::Tensor::zeros(core::DType::kF64, {M, F});
      const std::vector<double> y64 = test::to_f64(core::Tensor::copy_of(strided(y0, F)));
      std::copy(y64.begin(), y64.end(), yr.f64());
      cpu(strided(yc, F));
      ref(yr.view());
      const core::Tensor got = core::Tensor::copy_of(strided(yc, F));
      // One rounding of an O(|x|) result (8σ inputs), or softplus's few ulp of log1p/exp.
      test::expect_close(got.f32(), yr.f64(), got.numel(), 1, 8.0, op);
    };
    check("add_inplace", [&](const core::TensorView& y) { ops::add_inplace(ctx, y, strided(x, F)); },
          [&](const core::TensorView& y) { ops::ref::add_inplace(y, strided(x, F)); });
    check("neg_softplus", [&](const core::TensorView& y) { ops::neg_softplus(ctx, y, strided(x, F)); },
          [&](const core::TensorView& y) { ops::ref::neg_softplus(y, strided(x, F)); });
    if (F % 4 == 0)
      check("skip_add", [&](const core::TensorView& y) { ops::skip_add(ctx, y, strided(x, F), d); },
            [&](const core::TensorView& y) { ops::ref::skip_add(y, strided(x, F), d); });
  }
}

TEST(Elementwise, NegSoftplusHasNoOverflow) {
  ops::Context ctx(1);
  const float big = std::numeric_limits<float>::max();
  const core::Tensor a = core::Tensor::from_f32({1, 5}, std::vector<float>{-big, -100.0f, 0.0f, 100.0f, big});
  core::Tensor out = core::Tensor::zeros(core::DType::kF32, {1, 5});
  ops::neg_softplus(ctx, out, a);
  EXPECT_EQ(out.f32()[0], 0.0f);                // exp(-big) underflows to 0: a fully open gate
  EXPECT_FLOAT_EQ(out.f32()[1], -std::exp(-100.0f));
  EXPECT_FLOAT_EQ(out.f32()[2], -std::log(2.0f));
  EXPECT_EQ(out.f32()[3], -100.0f);
  EXPECT_EQ(out.f32()[4], -big);                // finite: max(a, 0) + log1p(tiny)
}

TEST(Elementwise, BadShapesThrowNamingTheOp) {
  ops::Context ctx(1);
  const core::Tensor a = core::Tensor::zeros(core::DType::kF32, {2, 6}), b = core::Tensor::zeros(core::DType::kF32, {2, 5});
  const core::Tensor d = core::Tensor::zeros(core::DType::kF32, {4});
  expect_error([&] { ops::add_inplace(ctx, a, b); }, "[add_inplace]");
  expect_error([&] { ops::neg_softplus(ctx, a, b); }, "[neg_softplus]");
  expect_error([&] { ops::skip_add(ctx, a, a, d); }, "[skip_add] d (4,)");
}

TEST(Scratch, NestsAndReusesItsMemory) {
  ops::Context ctx(1);
  size_t after_first = 0;
  for (int round = 0; round < 3; ++round) {
    ops::Scratch outer(ctx);
    const core::TensorView a = outer.zeros(core::DType::kF32, {1000});
    {
      ops::Scratch inner(ctx);
      const core::TensorView b = inner.zeros(core::DType::kF32, {3u << 20});  // past the first block
      const core::TensorView c = inner.empty(core::DType::kF32, {17});
      EXPECT_EQ((uintptr_t)b.data % 256, 0u);
      EXPECT_EQ((uintptr_t)c.data % 256, 0u);
      EXPECT_NE(b.data, a.data);
      EXPECT_EQ(b.f32()[(3u << 20) - 1], 0.0f);
      b.f32()[5] = 1.0f;  // dirty: the next round's zeros() must clear it
    }
    const core::TensorView again = outer.zeros(core::DType::kF32, {3u << 20});
    EXPECT_EQ(again.f32()[5], 0.0f);
    if (round == 0) after_first = ctx.arena().reserved();
    EXPECT_EQ(ctx.arena().reserved(), after_first) << "round " << round << " grew the arena";
  }
}

}  // namespace
}  // namespace llamba
