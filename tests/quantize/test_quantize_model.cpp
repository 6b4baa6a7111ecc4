// `llamba quantize` against llama.cpp's llama-quantize (byte-identical files from the same F32 input, every type),
// the type rules on our own architectures, quantize → dequantize error bounds, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cli_util.h"
#include "quant/quant.h"
#include "quantize/quantize_model.h"
#include "quantize_fixture.h"

namespace llamba {
namespace {

using core::DType;
using quantize::FileType;

TEST(QuantizeModel, ByteIdenticalToLlamaQuantize) {
  const nlohmann::json fx = test::load_quantize_fixture();
  ASSERT_EQ(fx["fixture_format"], "1") << "---> HINT: regenerate with tools/reference/make_quantize_fixtures.py";
  core::ThreadPool pool(2);
  for (const auto& model : fx["models"]) {
    const std::string name = model["name"];
    SCOPED_TRACE(name);
    const std::string in = test::temp_path(name + ".f32.gguf").string();
    test::write_fixture_input(model, in);
    const std::string in_bytes = test::read_file_bytes(in);
    ASSERT_EQ(test::hex64(test::mix64(in_bytes.data(), in_bytes.size())), model["input_hash"])
        << "the C++ generator (quantize_fixture.h) no longer rebuilds make_quantize_fixtures.py's input";
    for (const auto& [type_name, expected] : model["outputs"].items()) {
      SCOPED_TRACE(type_name);
      const auto ft = quantize::file_type_from_name(type_name);
      ASSERT_TRUE(ft);
      const std::string out = test::temp_path(name + "." + type_name + ".gguf").string();
      quantize::QuantizeOptions o;
      o.type = *ft;
      quantize::quantize_model(pool, in, out, o, false);
      const io::GgufFile f = io::GgufFile::open(out);
      const auto& want = expected["tensors"];
      ASSERT_EQ(f.tensors().size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {  // the first differing tensor names the problem
        const io::GgufTensorInfo& t = f.tensors()[i];
        ASSERT_EQ(t.name, want[i][0]) << "tensor order differs at " << i;
        ASSERT_EQ(t.ggml_type, want[i][1].get<uint32_t>()) << t.name << ": llama-quantize chose another type";
        const core::TensorView v = f.tensor(t);
        ASSERT_EQ(test::hex64(test::mix64(v.data, (size_t)t.nbytes)), want[i][2]) << t.name << ": bytes differ";
      }
      const std::string out_bytes = test::read_file_bytes(out);
      EXPECT_EQ(test::hex64(test::mix64(out_bytes.data(), out_bytes.size())), expected["file_hash"])
          << "tensors match but the file does not (metadata or layout)";
      std::filesystem::remove(out);
    }
    std::filesystem::remove(in);
  }
}

// A model file in memory with the given (name, shape) F32 tensors and architecture.
io::GgufFile memory_model(const std::string& arch, int layers,
                          const std::vector<std::pair<std::string, core::Shape>>& ts) {
  io::GgufWriter w;
  w.set("general.architecture", io::GgufValue::string(arch));
  w.set(arch + ".block_count", io::GgufValue::u32((uint32_t)layers));
  for (const auto& [name, shape] : ts) w.add_tensor(name, core::Tensor::zeros(DType::kF32, shape));
  return io::GgufFile::parse(w.write_to_memory(), arch + " test model");
}

DType planned(const std::vector<quantize::TensorPlan>& plan, const std::string& name) {
  for (const auto& p : plan)
    if (p.name == name) return p.to;
  ADD_FAILURE() << "no tensor " << name;
  return DType::kCount;
}

TEST(QuantizeModel, OurArchitecturesKeepTheirSmallAndRecurrentTensors) {
  const io::GgufFile gl = memory_model("gateloop", 1, {{"token_embd.weight", {64, 256}},
                                                       {"blk.0.attn_norm.weight", {256}},
                                                       {"blk.0.gl_q.weight", {256, 256}},
                                                       {"blk.0.gl_a.weight", {8, 256}},
                                                       {"blk.0.gl_a.bias", {8}},
                                                       {"blk.0.gl_out.weight", {256, 256}}});
  quantize::QuantizeOptions o;
  o.type = FileType::kQ4_0;
  const auto plan = quantize::plan_quantization(gl, o);
  EXPECT_EQ(planned(plan, "blk.0.gl_q.weight"), DType::kQ4_0);
  EXPECT_EQ(planned(plan, "blk.0.gl_a.weight"), DType::kF32) << "the transition projection stays f32";
  EXPECT_EQ(planned(plan, "blk.0.gl_a.bias"), DType::kF32);
  EXPECT_EQ(planned(plan, "blk.0.attn_norm.weight"), DType::kF32);
  EXPECT_EQ(planned(plan, "token_embd.weight"), DType::kQ6_K) << "a tied embedding takes the head's type";

  const io::GgufFile lb = memory_model("llamba", 1, {{"token_embd.weight", {64, 256}},
                                                     {"output.weight", {64, 256}},
                                                     {"blk.0.ssm_in.weight", {600, 256}},
                                                     {"blk.0.ssm_conv1d.weight", {300, 4}},
                                                     {"blk.0.ssm_d", {4}},
                                                     {"blk.0.ssm_out.weight", {256, 288}}});
  o.type = FileType::kQ4_K_M;
  const auto plan2 = quantize::plan_quantization(lb, o);
  EXPECT_EQ(planned(plan2, "blk.0.ssm_in.weight"), DType::kQ4_K);
  EXPECT_EQ(planned(plan2, "blk.0.ssm_out.weight"), DType::kQ5_0) << "288 columns: Q4_K falls back to Q5_0";
  EXPECT_EQ(planned(plan2, "blk.0.ssm_conv1d.weight"), DType::kF32);
  EXPECT_EQ(planned(plan2, "blk.0.ssm_d"), DType::kF32);
  EXPECT_EQ(planned(plan2, "output.weight"), DType::kQ6_K);
  EXPECT_EQ(planned(plan2, "token_embd.weight"), DType::kQ4_K) << "untied: the embedding takes the base type";
}

TEST(QuantizeModel, OptionsOverrideTheMixture) {
  const io::GgufFile f = memory_model("llama", 1, {{"token_embd.weight", {64, 256}},
                                                   {"output.weight", {64, 256}},
                                                   {"blk.0.attn_v.weight", {64, 256}},
                                                   {"blk.0.attn_q.weight", {64, 256}}});
  quantize::QuantizeOptions o;
  o.type = FileType::kQ4_K_M;
  EXPECT_EQ(planned(quantize::plan_quantization(f, o), "blk.0.attn_v.weight"), DType::kQ6_K);
  o.pure = true;
  auto plan = quantize::plan_quantization(f, o);
  EXPECT_EQ(planned(plan, "blk.0.attn_v.weight"), DType::kQ4_K);
  EXPECT_EQ(planned(plan, "output.weight"), DType::kQ4_K);
  o.pure = false;
  o.output_type = DType::kQ8_0;
  o.embedding_type = DType::kF16;
  o.keep = {"attn_q"};
  plan = quantize::plan_quantization(f, o);
  EXPECT_EQ(planned(plan, "output.weight"), DType::kQ8_0);
  EXPECT_EQ(planned(plan, "token_embd.weight"), DType::kF16);
  EXPECT_EQ(planned(plan, "blk.0.attn_q.weight"), DType::kF32);
  o = {};
  o.leave_output = true;
  EXPECT_EQ(planned(quantize::plan_quantization(f, o), "output.weight"), DType::kF32);
  o.keep = {"("};
  EXPECT_THROW(quantize::plan_quantization(f, o), Error);
}

// Per element, the 32-block types are within half a step of their grid plus the f16 rounding of the block's scale
// (<= 2^-11 relative, times at most the largest level: amax·2^-11 in all) and of its min: Q8_0 step amax/127;
// Q4_0/Q5_0 step amax/8 and amax/16, but a full step, since the grid is anchored at the largest magnitude and
// the other sign clips by up to one step; Q4_1/Q5_1 step range/15 and range/31.
double block_bound(DType t, const float* x) {
  float lo = x[0], hi = x[0], amax = 0;
  for (int i = 0; i < 32; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
    amax = std::max(amax, std::fabs(x[i]));
  }
  const double f16 = 0x1p-11, range = (double)hi - lo;
  switch (t) {
    case DType::kQ8_0: return amax / 127.0 * 0.5 + amax * f16 * 1.01;
    case DType::kQ4_0: return amax / 8.0 + amax * f16 * 1.01;
    case DType::kQ5_0: return amax / 16.0 + amax * f16 * 1.01;
    case DType::kQ4_1: return range / 15.0 * 0.5 + (std::fabs(lo) + range) * f16 * 1.01;
    case DType::kQ5_1: return range / 31.0 * 0.5 + (std::fabs(lo) + range) * f16 * 1.01;
    default: return 0;
  }
}

TEST(QuantizeModel, RoundTripErrorWithinEachTypesBound) {
  core::Rng rng(5);
  const int64_t n = 32 * 128;
  std::vector<float> x = test::randn(rng, n), cosine(n), y(n);
  for (int64_t i = 0; i < n; ++i) cosine[i] = 0.1f + 2.0f * std::cos((float)i);  // ggml's test-quantize-fns data
  auto rmse = [&](DType t, const std::vector<float>& v) {
    std::vector<uint8_t> q(core::dtype_bytes(t, n));
    quant::quantize_row(t, v.data(), q.data(), n);
    quant::dequantize_row(t, q.data(), y.data(), n);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += ((double)y[i] - v[i]) * ((double)y[i] - v[i]);
    return std::sqrt(s / n);
  };
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1}) {
    SCOPED_TRACE(core::dtype_name(t));
    rmse(t, x);
    for (int64_t b = 0; b < n / 32; ++b)
      for (int i = 0; i < 32; ++i)
        ASSERT_LE(std::fabs(y[b * 32 + i] - x[b * 32 + i]), block_bound(t, &x[b * 32])) << "block " << b;
  }
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ4_K, DType::kQ5_K,
                  DType::kQ6_K}) {
    SCOPED_TRACE(core::dtype_name(t));
    // ggml's own bound (test-quantize-fns.cpp: sqrt(Σ e²) / n < 0.002 on its cosine data).
    EXPECT_LT(rmse(t, cosine) / std::sqrt((double)n), 0.002);
  }
  // At fewer bits the k-quants still beat the 32-block types: Q4_K (4.5 bits per weight) vs Q4_1 (5), Q5_K (5.5)
  // vs Q5_1 (6), and Q6_K (6.56) is far below Q5_1.
  EXPECT_LT(rmse(DType::kQ4_K, x), rmse(DType::kQ4_1, x));
  EXPECT_LT(rmse(DType::kQ5_K, x), rmse(DType::kQ5_1, x));
  EXPECT_LT(rmse(DType::kQ6_K, x), rmse(DType::kQ5_1, x) / 1.8);
}

TEST(QuantizeCli, ClearErrorsAndNoHalfWrittenOutput) {
  if (test::llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
  const nlohmann::json fx = test::load_quantize_fixture();
  const std::string in = test::temp_path("cli_in.gguf").string(), out = test::temp_path("cli_out.gguf").string();
  test::write_fixture_input(fx["models"][1], in);
  auto r = test::run_llamba("quantize '" + in + "' '" + out + "' Q3_K");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("unknown quantization type 'Q3_K'"), std::string::npos) << r.out;
  r = test::run_llamba("quantize '" + test::fixture_path("quantize/llama_quantize.json") + "' '" + out + "' Q8_0");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("llama_quantize.json"), std::string::npos) << r.out;
  r = test::run_llamba("quantize '" + in + "' /nonexistent-dir/x.gguf Q8_0 -q");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent-dir/x.gguf"), std::string::npos) << r.out;
  r = test::run_llamba("quantize '" + in + "' '" + out + "' q4_k --output-type q2_k");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--output-type 'q2_k'"), std::string::npos) << r.out;
  // An existing output survives a failed run untouched, and is replaced whole by a good one.
  { std::ofstream(out) << "previous contents"; }
  r = test::run_llamba("quantize '" + in + "' '" + out + "' q8_0 --keep '('");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(test::read_file_bytes(out), "previous contents");
  r = test::run_llamba("quantize '" + in + "' '" + out + "' q8_0 -q");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NO_THROW(io::GgufFile::open(out));
  std::filesystem::remove(in);
  std::filesystem::remove(out);
}

}  // namespace
}  // namespace llamba
