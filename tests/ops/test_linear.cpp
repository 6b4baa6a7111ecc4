// linear: cpu (SIMD, threads, row-by-row dequantization) against the double reference, for every weight dtype,
// odd sizes and strided rows.
#include "ops/linear.h"

#include "op_test_util.h"
#include "quant/quant.h"

namespace llamba {
namespace {

using core::DType;

void check(DType wt, int64_t M, int64_t K, int64_t N, bool bias, bool strided) {
  SCOPED_TRACE(testing::Message() << core::dtype_name(wt) << " M=" << M << " K=" << K << " N=" << N);
  core::Rng rng(M * 131 + K * 7 + N);
  const int64_t ld = strided ? K + 5 : K;
  core::Tensor xbuf = test::rand_tensor(rng, {M, ld});
  const core::TensorView x = xbuf.view().slice(1, 0, K);
  const auto wf = test::randn(rng, N * K, 0.1);
  core::Tensor w = core::Tensor::zeros(wt, {N, K});
  quant::quantize_row(wt, wf.data(), w.view().data, N * K);
  core::Tensor b = bias ? test::rand_tensor(rng, {N}) : core::Tensor();
  core::Tensor y = core::Tensor::zeros(DType::kF32, {M, N});
  core::Tensor yr = core::Tensor::zeros(DType::kF64, {M, N});
  core::ThreadPool pool(2);
  ops::linear_forward(pool, y, x, w, bias ? b.view() : core::TensorView{});
  ops::ref::linear_forward(yr, x, w, bias ? b.view() : core::TensorView{});
  // |x|~1, |w|~0.1: a dot of K terms has magnitude ~0.1·sqrt(K); rounding grows like eps·sqrt(K) of that.
  test::expect_close(y.f32(), yr.f64(), M * N, K, 0.1 * std::sqrt((double)K), "linear");
}

TEST(Linear, MatchesReferenceForEveryWeightType) {
  for (DType wt : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                   DType::kQ5_1})
    check(wt, 3, 64, 17, true, false);
}

TEST(Linear, OddSizesStridedRowsAndDecodeShape) {
  for (int64_t K : {1, 31, 33, 100}) check(DType::kF32, 5, K, 9, false, true);
  check(DType::kF32, 1, 576, 1536, false, false);    // decode
  check(DType::kQ4_1, 64, 576, 192, false, false);   // prefill
  check(DType::kF32, 0, 8, 4, false, false);         // no rows
}

}  // namespace
}  // namespace llamba
