// embedding: quantized tables give the dequantized rows; out-of-range ids are errors, not reads.
#include "ops/embedding.h"

#include "op_test_util.h"
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
  core::ThreadPool pool(2);
  ops::embedding_forward(pool, out, table, ids);
  ops::ref::embedding_forward(outr, table, ids);
  for (int64_t i = 0; i < out.numel(); ++i) ASSERT_EQ(out.f32()[i], (float)outr.f64()[i]);
  const std::vector<int32_t> bad = {10};
  EXPECT_THROW(ops::embedding_forward(pool, out.view().slice(0, 0, 1), table, bad), Error);
  const std::vector<int32_t> neg = {-1};
  EXPECT_THROW(ops::embedding_forward(pool, out.view().slice(0, 0, 1), table, neg), Error);
}

}  // namespace
}  // namespace llamba
