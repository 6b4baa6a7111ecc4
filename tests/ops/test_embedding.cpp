// embedding: quantized tables give the dequantized rows; out-of-range ids are errors, not reads. Backward:
// scatter-add with repeated ids, ref vs complex step, cpu vs ref, accumulation.
#include "ops/embedding.h"

#include "grad_check.h"
#include "ops/ref/embedding_impl.h"
#include "quant/quant.h"

namespace llamba {
namespace {

TEST(Embedding, DequantizedRowsAndRangeCheck) {
  core::Rng rng(6);
  const auto vals = test::randn(rng, 10 * 64);
  core::Tensor table = core::Tensor::zeros(core::DType::kQ8_0, {10, 64});
  quant::quantize_row(core::DType::kQ8_0, vals.data(), table.view().data, 10 * 64);
  const std::vector<int32_t> ids = {3, 0, 9, 3};
  core::Tensor out = core::Tensor::zeros(core::DType::kF32, {4, 64}), outr = core::Tensor::zeros(core::DType::kF64, {4, 64});
  ops::Context ctx(2);
  ops::embedding_forward(ctx, out, table, ids);
  ops::ref::embedding_forward(outr, table, ids);
  for (int64_t i = 0; i < out.numel(); ++i) ASSERT_EQ(out.f32()[i], (float)outr.f64()[i]);
  const std::vector<int32_t> bad = {10};
  EXPECT_THROW(ops::embedding_forward(ctx, out.view().slice(0, 0, 1), table, bad), Error);
  const std::vector<int32_t> neg = {-1};
  EXPECT_THROW(ops::embedding_forward(ctx, out.view().slice(0, 0, 1), table, neg), Error);
}

TEST(EmbeddingBackward, RefMatchesComplexStep) {
  const int64_t V = 6, D = 5;
  const std::vector<int32_t> ids = {2, 0, 2, 5, 2, 0, 1};  // repeats; id 3 and 4 unused
  const int64_t T = (int64_t)ids.size();
  core::Rng rng(1);
  const auto table = test::randn64(rng, V * D), r = test::randn64(rng, T * D);
  const auto num = test::complex_step_grad(table, [&](const std::vector<test::cd>& v) {
    std::vector<test::cd> out(T * D);
    ops::ref::impl::embedding_forward(out.data(), v.data(), ids.data(), T, D);
    return test::weighted_sum(r, out);
  });
  core::Tensor dt = test::zeros64({V, D});
  ops::ref::embedding_backward(dt, test::tensor64({T, D}, r), ids);
  // A sum of at most three values per element: exact to rounding.
  test::expect_grad_near(test::values(dt), num, 1e-14, "embedding dtable (complex step)");
  for (int64_t i = 3 * D; i < 5 * D; ++i) EXPECT_EQ(dt.f64()[i], 0.0) << "unused rows stay zero";
}

TEST(EmbeddingBackward, CpuMatchesRefAndAccumulates) {
  for (auto [V, D, T] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {7, 33, 1}, {50, 31, 513}, {300, 64, 40}}) {
    SCOPED_TRACE(testing::Message() << "V=" << V << " D=" << D << " T=" << T);
    core::Rng rng(V + D + T);
    std::vector<int32_t> ids(T);
    for (auto& id : ids) id = (int32_t)rng.below(std::min<int64_t>(V, 9));  // few distinct ids: many repeats
    core::Tensor doutb = test::rand_tensor(rng, {T, D + 2});
    const core::TensorView dout = doutb.view().slice(1, 0, D);
    core::Tensor dtb = test::zeros32({V, D + 3}), dtr = test::zeros64({V, D});
    const core::TensorView dt = dtb.view().slice(1, 0, D);
    ops::Context ctx(3);
    ops::embedding_backward(ctx, dt, dout, ids);
    ops::ref::embedding_backward(dtr, dout, ids);
    const core::Tensor dtc = core::Tensor::copy_of(dt);
    // Each row sums its tokens' rows (up to ~T/9 terms of |dout| ~ 1).
    test::expect_f32_grad(dtc, dtr, T, std::sqrt((double)T), "embedding dtable");
    const auto d1 = test::values(dtc);
    ops::embedding_backward(ctx, dt, dout, ids);
    test::expect_doubled(core::Tensor::copy_of(dt), d1, "embedding dtable");
    const std::vector<int32_t> bad = {(int32_t)V};
    EXPECT_THROW(ops::embedding_backward(ctx, dt, dout.slice(0, 0, 1), bad), Error);
  }
}

}  // namespace
}  // namespace llamba
