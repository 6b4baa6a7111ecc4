// linear: cpu (SIMD, threads, row-by-row dequantization) against the double reference, for every weight dtype,
// odd sizes and strided rows; backward: ref vs complex step, cpu vs ref (dx, dw, dbias), accumulation.
#include "grad_check.h"
#include "ops/linear.h"
#include "ops/ref/linear_impl.h"
#include "quant/quant.h"

namespace llamba {
namespace {

using core::DType;

// Offsets of the f16 scale fields in each k-quant block: random bytes elsewhere are valid, random f16s are not.
std::vector<int> k_quant_f16_fields(DType t) {
  switch (t) {
    case DType::kQ2_K:
      return {80, 82};
    case DType::kQ3_K:
      return {108};
    case DType::kQ4_K:
    case DType::kQ5_K:
      return {0, 2};
    case DType::kQ6_K:
      return {208};
    default:
      return {};
  }
}

// An (N, K) weight of type `wt`: quantized from N(0, 0.1²) values, or for the dequantize-only k-quants (Q2_K,
// Q3_K) random blocks whose f16 scales lie in [1e-3, 1.1e-2].
core::Tensor random_weight(core::Rng& rng, DType wt, int64_t N, int64_t K) {
  core::Tensor w = core::Tensor::zeros(wt, {N, K});
  if (quant::can_quantize(wt)) {
    const auto wf = test::randn(rng, N * K, 0.1);
    quant::quantize_row(wt, wf.data(), w.view().data, N * K);
    return w;
  }
  auto* bytes = static_cast<uint8_t*>(w.view().data);
  for (int64_t i = 0; i < w.view().nbytes(); ++i) bytes[i] = (uint8_t)(rng.next_u64() & 0xFF);
  const core::DTypeInfo& info = core::dtype_info(wt);
  for (int64_t blk = 0; blk < N * K / info.block_size; ++blk)
    for (int off : k_quant_f16_fields(wt)) {
      const uint16_t h = core::f32_to_fp16((float)(0.001 + 0.01 * rng.uniform()));
      std::memcpy(bytes + blk * info.block_bytes + off, &h, 2);
    }
  return w;
}

void check(DType wt, int64_t M, int64_t K, int64_t N, bool bias, bool strided, ops::Gemm gemm = ops::Gemm::kExact) {
  SCOPED_TRACE(testing::Message() << core::dtype_name(wt) << " M=" << M << " K=" << K << " N=" << N
                                  << (gemm == ops::Gemm::kBlas ? " blas" : ""));
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
  ops::Context ctx(2);
  ctx.set_gemm(gemm);
  ops::linear_forward(ctx, y, x, w, bias ? b.view() : core::TensorView{});
  ops::ref::linear_forward(yr, x, w, bias ? b.view() : core::TensorView{});
  // |x|~1, |w|~0.1: a dot of K terms has magnitude ~0.1·sqrt(K); rounding grows like eps·sqrt(K) of that.
  test::expect_close(y.f32(), yr.f64(), M * N, K, 0.1 * std::sqrt((double)K), "linear");
}

TEST(Linear, MatchesReferenceForEveryWeightType) {
  for (DType wt :
       {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1})
    check(wt, 3, 64, 17, true, false);
}

TEST(Linear, OddSizesStridedRowsAndDecodeShape) {
  for (int64_t K : {1, 31, 33, 100}) check(DType::kF32, 5, K, 9, false, true);
  check(DType::kF32, 1, 576, 1536, false, false);   // decode
  check(DType::kQ4_1, 64, 576, 192, false, false);  // prefill
  check(DType::kF32, 0, 8, 4, false, false);        // no rows
}

// A few input rows (decode) are dotted straight from the quantized blocks; more rows (prefill) dequantize the
// weights first and go through 4×4 tiles. Every output must be the same bit for bit whatever the number of rows,
// so that prefill + decode equals one full forward exactly.
TEST(Linear, FewRowsEqualManyRowsBitForBit) {
  for (DType wt : {DType::kF32, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_1, DType::kQ4_K, DType::kQ5_K,
                   DType::kQ6_K, DType::kQ2_K}) {
    for (int64_t K : {32, 96, 100, 256, 576, 768}) {
      if (K % core::dtype_info(wt).block_size) continue;  // block types need whole blocks
      SCOPED_TRACE(testing::Message() << core::dtype_name(wt) << " K=" << K);
      const int64_t M = 11, N = 37;
      core::Rng rng(K + (int64_t)wt);
      core::Tensor x = test::rand_tensor(rng, {M, K});
      core::Tensor w = random_weight(rng, wt, N, K);
      core::Tensor b = test::rand_tensor(rng, {N});
      ops::Context ctx(2);
      core::Tensor all = core::Tensor::zeros(DType::kF32, {M, N});
      ops::linear_forward(ctx, all, x, w, b);
      for (int64_t m0 = 0; m0 + 1 < M; m0 += 2) {
        for (int64_t rows : {1, 2}) {
          core::Tensor part = core::Tensor::zeros(DType::kF32, {rows, N});
          ops::linear_forward(ctx, part, x.view().slice(0, m0, m0 + rows), w, b);
          EXPECT_EQ(std::memcmp(part.f32(), all.f32() + m0 * N, (size_t)(rows * N) * sizeof(float)), 0)
              << "rows " << m0 << ".." << m0 + rows;
        }
      }
    }
  }
}

// k-quant weights (dequantize-only types) at decode and prefill shapes against the reference.
TEST(Linear, KQuantWeights) {
  for (DType wt : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    for (int64_t M : {1, 5}) {
      SCOPED_TRACE(testing::Message() << core::dtype_name(wt) << " M=" << M);
      const int64_t K = 512, N = 9;
      core::Rng rng(M + (int64_t)wt);
      core::Tensor w = random_weight(rng, wt, N, K);
      core::Tensor x = test::rand_tensor(rng, {M, K});
      core::Tensor y = core::Tensor::zeros(DType::kF32, {M, N}), yr = core::Tensor::zeros(DType::kF64, {M, N});
      ops::Context ctx(2);
      ops::linear_forward(ctx, y, x, w, {});
      ops::ref::linear_forward(yr, x, w, {});
      // |w| ≤ d·scale·q ≈ 0.011·63·31 ≈ 21 at the widest (Q5_K), |x| ~ 1: a K-term dot is ≲ 21·sqrt(K).
      test::expect_close(y.f32(), yr.f64(), M * N, K, 21.0 * std::sqrt((double)K), "linear k-quant");
    }
  }
}

TEST(LinearBackward, RefMatchesComplexStep) {
  for (auto [M, K, N] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 33, 5}, {2, 7, 31}}) {
    core::Rng rng(M * 1000 + K * 10 + N);
    const auto x = test::randn64(rng, M * K), w = test::randn64(rng, N * K, 0.3), b = test::randn64(rng, N),
               r = test::randn64(rng, M * N);
    test::Pack p;
    const size_t ix = p.add(x), iw = p.add(w), ib = p.add(b);
    const auto num = test::complex_step_grad(p.x, [&](const std::vector<test::cd>& v) {
      std::vector<test::cd> y(M * N);
      ops::ref::impl::linear_forward(y.data(), p.at(v, ix), p.at(v, iw), p.at(v, ib), M, K, N);
      return test::weighted_sum(r, y);
    });
    core::Tensor dx = test::zeros64({M, K}), dw = test::zeros64({N, K}), db = test::zeros64({N});
    ops::ref::linear_backward(dx, dw, db, test::tensor64({M, N}, r), test::tensor64({M, K}, x),
                              test::tensor64({N, K}, w));
    // Exact to rounding: sums of <= 33 products (~33·eps64 ≈ 7e-15); 1e-12 leaves margin.
    test::expect_grad_near(test::values(dx), p.part(num, ix), 1e-12, "linear dx (complex step)");
    test::expect_grad_near(test::values(dw), p.part(num, iw), 1e-12, "linear dw (complex step)");
    test::expect_grad_near(test::values(db), p.part(num, ib), 1e-12, "linear dbias (complex step)");
  }
}

void check_backward(int64_t M, int64_t K, int64_t N, bool strided, ops::Gemm gemm = ops::Gemm::kExact) {
  SCOPED_TRACE(testing::Message() << "M=" << M << " K=" << K << " N=" << N
                                  << (gemm == ops::Gemm::kBlas ? " blas" : ""));
  core::Rng rng(M * 131 + K * 7 + N + 1);
  const int64_t ldx = strided ? K + 5 : K, ldy = strided ? N + 3 : N;
  core::Tensor xb = test::rand_tensor(rng, {M, ldx}), w = test::rand_tensor(rng, {N, K}, 0.1),
               dyb = test::rand_tensor(rng, {M, ldy});
  const core::TensorView x = xb.view().slice(1, 0, K), dy = dyb.view().slice(1, 0, N);
  core::Tensor dxb = test::zeros32({M, ldx}), dw = test::zeros32({N, K}), db = test::zeros32({N});
  const core::TensorView dx = dxb.view().slice(1, 0, K);
  core::Tensor dxr = test::zeros64({M, K}), dwr = test::zeros64({N, K}), dbr = test::zeros64({N});
  ops::Context ctx(3);
  ctx.set_gemm(gemm);
  ops::linear_backward(ctx, dx, dw, db, dy, x, w);
  ops::ref::linear_backward(dxr, dwr, dbr, dy, x, w);
  const core::Tensor dxc = core::Tensor::copy_of(dx);
  // dx: N-term dots of |dy|~1 by |w|~0.1, magnitude ~0.1·sqrt(N); dw: M-term dots of |dy|~1 by |x|~1;
  // dbias: M-term sums of |dy|~1 (as in the forward test: error ~eps·sqrt(K) of the result's magnitude).
  test::expect_f32_grad(dxc, dxr, N, 0.1 * std::sqrt((double)N), "linear dx");
  test::expect_f32_grad(dw, dwr, M, std::sqrt((double)M), "linear dw");
  test::expect_f32_grad(db, dbr, M, std::sqrt((double)M), "linear dbias");
  // Accumulation, and each gradient alone (the other inputs empty where the contract allows).
  const auto dx1 = test::values(dxc), dw1 = test::values(dw), db1 = test::values(db);
  ops::linear_backward(ctx, dx, {}, {}, dy, {}, w);
  ops::linear_backward(ctx, {}, dw, {}, dy, x, {});
  ops::linear_backward(ctx, {}, {}, db, dy, {}, {});
  test::expect_doubled(core::Tensor::copy_of(dx), dx1, "linear dx");
  test::expect_doubled(dw, dw1, "linear dw");
  test::expect_doubled(db, db1, "linear dbias");
}

TEST(LinearBackward, CpuMatchesRefAndAccumulates) {
  for (int64_t K : {1, 31, 33}) check_backward(5, K, 9, true);
  check_backward(1, 1, 1, false);
  check_backward(1, 576, 1536, false);  // decode
  check_backward(64, 576, 192, false);  // prefill
  check_backward(33, 1030, 17, true);   // several column tiles, a partial row tile
  check_backward(0, 8, 4, false);       // no rows
}

// Gemm::kBlas: OpenBLAS from 16 rows on (row and column slices across the 2-3 threads), quantized weights
// dequantized 256 rows at a time; the same tolerances as the tiled path (fp32 sums of K terms, in another order).
TEST(Linear, BlasMatchesReference) {
  for (DType wt : {DType::kF32, DType::kQ8_0, DType::kQ4_1}) {
    check(wt, 64, 576, 192, true, true, ops::Gemm::kBlas);
    check(wt, 300, 64, 600, false, false, ops::Gemm::kBlas);  // more weight rows than one dequantized block
  }
  check(DType::kF32, 15, 64, 40, true, false, ops::Gemm::kBlas);  // below 16 rows: the tiled path
}

TEST(LinearBackward, BlasMatchesRefAndAccumulates) {
  check_backward(64, 576, 192, false, ops::Gemm::kBlas);
  check_backward(33, 1030, 17, true, ops::Gemm::kBlas);
  check_backward(200, 16, 300, true, ops::Gemm::kBlas);
}

}  // namespace
}  // namespace llamba
