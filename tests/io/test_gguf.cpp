// GGUF reader/writer: a file written by ggml's own `gguf` Python package (every value type, every tensor type we
// support) read exactly; our quantizer reproduces its bytes; write -> read round trips.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "io/gguf.h"
#include "io/safetensors.h"
#include "quant/quant.h"
#include "test_util.h"

namespace llamba {
namespace {

using core::DType;

TEST(Gguf, ReadsEveryValueTypeWrittenByGgufPy) {
  const auto f = io::GgufFile::open(test::fixture_path("gguf/all_types.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_int("test.u8"), 200);
  EXPECT_EQ(f.get_int("test.i8"), -100);
  EXPECT_EQ(f.get_int("test.u16"), 60000);
  EXPECT_EQ(f.get_int("test.i16"), -30000);
  EXPECT_EQ(f.get_int("test.u32"), 4000000000);
  EXPECT_EQ(f.get_int("test.i32"), -2000000000);
  EXPECT_EQ(f.get_float("test.f32"), 3.25);
  EXPECT_TRUE(f.get_bool("test.bool", false));
  EXPECT_EQ(f.get_string("test.string"), "héllo wörld ✓");
  EXPECT_EQ(f.require("test.u64").u, (1ull << 63) + 5);
  EXPECT_EQ(f.get_int("test.i64"), -(int64_t(1) << 62));
  EXPECT_EQ(f.get_float("test.f64"), -1.0e-300);
  EXPECT_EQ(f.require("test.array_i32").as_ints("a"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.require("test.array_str").as_strings("a"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(f.require("test.array_f32").as_floats("a"), (std::vector<double>{0.5, -1.5}));
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_THROW(f.get_int("test.string"), Error);
  EXPECT_THROW(f.get_int("no.such.key"), Error);
}

// Tensor t.<name> of `f` is a (rows, cols) `dt` tensor (stored in *t) whose rows dequantize to ref's deq.<name>
// bit for bit. Call inside ASSERT_NO_FATAL_FAILURE.
void check_dequantized_like_gguf(const io::GgufFile& f, const io::SafetensorsFile& ref, const std::string& name,
                                 DType dt, int64_t rows, int64_t cols, core::TensorView* t) {
  *t = f.tensor("t." + name);
  ASSERT_EQ(t->dtype, dt);
  ASSERT_EQ(t->shape, core::Shape({rows, cols}));
  const core::Tensor deq = ref.to_f32("deq." + name);
  std::vector<float> ours(t->numel());
  for (int64_t r = 0; r < rows; ++r) quant::dequantize_row(dt, t->byte_ptr(r * cols), ours.data() + r * cols, cols);
  EXPECT_EQ(std::memcmp(ours.data(), deq.f32(), ours.size() * 4), 0) << "dequantized values differ from gguf-py";
}

TEST(Gguf, DequantizesAndQuantizesBitExactlyLikeGgml) {
  const auto f = io::GgufFile::open(test::fixture_path("gguf/all_types.gguf"));
  const auto ref = io::SafetensorsFile::open(test::fixture_path("gguf/all_types.safetensors"));
  for (const char* name : {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"}) {
    SCOPED_TRACE(name);
    DType dt;
    ASSERT_TRUE(core::dtype_from_name(name, &dt));
    core::TensorView t;
    ASSERT_NO_FATAL_FAILURE(check_dequantized_like_gguf(f, ref, name, dt, 4, 64, &t));
    const core::Tensor src = ref.to_f32(std::string("src.") + name);
    std::vector<uint8_t> bytes(t.nbytes());
    for (int64_t r = 0; r < 4; ++r)
      quant::quantize_row(dt, src.f32() + r * 64, bytes.data() + core::dtype_bytes(dt, 64) * r, 64);
    EXPECT_EQ(std::memcmp(bytes.data(), t.data, bytes.size()), 0) << "quantized bytes differ from gguf-py";
  }
}

// k-quant super-blocks (random bytes, sane scales) against gguf-py's dequantization, bit for bit. Q4_K/Q5_K/Q6_K
// also quantize (checked against llama-quantize in test_quantize_model.cpp); Q2_K/Q3_K do not.
TEST(Gguf, DequantizesKQuantsBitExactlyLikeGgml) {
  const auto f = io::GgufFile::open(test::fixture_path("gguf/k_quants.gguf"));
  const auto ref = io::SafetensorsFile::open(test::fixture_path("gguf/k_quants.safetensors"));
  for (const char* name : {"q2_k", "q3_k", "q4_k", "q5_k", "q6_k"}) {
    SCOPED_TRACE(name);
    DType dt;
    ASSERT_TRUE(core::dtype_from_name(name, &dt));
    core::TensorView t;
    ASSERT_NO_FATAL_FAILURE(check_dequantized_like_gguf(f, ref, name, dt, 3, 512, &t));
    EXPECT_EQ(quant::can_quantize(dt), dt == DType::kQ4_K || dt == DType::kQ5_K || dt == DType::kQ6_K);
  }
}

TEST(Gguf, WriteReadRoundTrip) {
  io::GgufWriter w;
  w.set("general.architecture", io::GgufValue::string("llamba"));
  w.set("a.u32", io::GgufValue::u32(7));
  w.set("a.f64", io::GgufValue::f64(0.125));
  w.set("a.strs", io::GgufValue::string_array({"x", "yy"}));
  w.set("a.i32s", io::GgufValue::i32_array({-1, 2}));
  w.set("a.bool", io::GgufValue::boolean(false));
  core::Rng rng(3);
  const auto vals = test::randn(rng, 3 * 64);
  const core::Tensor t = core::Tensor::from_f32({3, 64}, vals);
  core::Tensor q = core::Tensor::zeros(DType::kQ4_1, {3, 64});
  for (int r = 0; r < 3; ++r) quant::quantize_row(DType::kQ4_1, vals.data() + r * 64, q.view().byte_ptr(r * 64), 64);
  w.add_tensor("w.f32", t);
  w.add_tensor("w.q41", q);
  w.add_tensor("w.lazy", {5}, DType::kF32, [](void* dst) {
    for (int i = 0; i < 5; ++i) static_cast<float*>(dst)[i] = (float)i;
  });
  const std::string path = test::temp_path("llamba_rt.gguf").string();
  w.write(path);
  const auto f = io::GgufFile::open(path);
  EXPECT_EQ(f.get_int("a.u32"), 7);
  EXPECT_EQ(f.get_float("a.f64"), 0.125);
  EXPECT_EQ(f.require("a.strs").as_strings(""), (std::vector<std::string>{"x", "yy"}));
  EXPECT_EQ(f.require("a.i32s").as_ints(""), (std::vector<int64_t>{-1, 2}));
  EXPECT_FALSE(f.get_bool("a.bool", true));
  EXPECT_EQ(std::memcmp(f.tensor("w.f32").data, t.f32(), 3 * 64 * 4), 0);
  EXPECT_EQ(f.tensor("w.q41").shape, core::Shape({3, 64}));
  EXPECT_EQ(std::memcmp(f.tensor("w.q41").data, q.view().data, q.view().nbytes()), 0);
  EXPECT_EQ(f.tensor("w.lazy").f32()[4], 4.0f);
  EXPECT_EQ((uint64_t)(static_cast<uint8_t*>(f.tensor("w.q41").data) - f.buffer()->data()) % f.alignment(), 0u);
  std::filesystem::remove(path);
}

TEST(Quant, RoundTripDistortionPerType) {
  // Per block of 32 the worst error is half a quantization step: d/2 with d = max|x|/127 (Q8_0), max|x|/8 (Q4_0),
  // (max-min)/15 (Q4_1), max|x|/16 (Q5_0), (max-min)/31 (Q5_1), plus the fp16 rounding of d.
  core::Rng rng(5);
  const auto x = test::randn(rng, 32 * 64);
  const std::pair<DType, double> cases[] = {{DType::kQ8_0, 2.0 / 127}, {DType::kQ4_0, 2.0 / 8},
                                            {DType::kQ4_1, 1.0 / 15},  {DType::kQ5_0, 2.0 / 16},
                                            {DType::kQ5_1, 1.0 / 31}};
  for (auto [dt, step_frac] : cases) {
    std::vector<uint8_t> q(core::dtype_bytes(dt, x.size()));
    std::vector<float> y(x.size());
    quant::quantize_row(dt, x.data(), q.data(), x.size());
    quant::dequantize_row(dt, q.data(), y.data(), x.size());
    for (size_t b = 0; b < x.size() / 32; ++b) {
      float lo = x[b * 32], hi = x[b * 32];
      for (int j = 0; j < 32; ++j) lo = std::min(lo, x[b * 32 + j]), hi = std::max(hi, x[b * 32 + j]);
      const double range = std::max(std::fabs(lo), std::fabs(hi)) * 2;  // covers both range conventions
      for (int j = 0; j < 32; ++j)
        ASSERT_LE(std::fabs(y[b * 32 + j] - x[b * 32 + j]), 0.5 * step_frac * range * 1.01 + 1e-7)
            << core::dtype_name(dt) << " block " << b;
    }
  }
}

}  // namespace
}  // namespace llamba
