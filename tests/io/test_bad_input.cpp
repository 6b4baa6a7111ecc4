// Bad model files never crash: truncated at every length, bit-flipped, hostile headers (huge counts and dims,
// offsets past the end, unknown types, misalignment, duplicates), bad safetensors, and model files with missing
// or mis-shaped tensors or an unknown architecture. Each gives llamba::Error naming the file and what is wrong.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/rng.h"
#include "io/gguf.h"
#include "io/hf_checkpoint.h"
#include "io/safetensors.h"
#include "models/convert.h"
#include "models/model.h"
#include "test_util.h"

namespace llamba {
namespace {

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::shared_ptr<core::Buffer> to_buffer(const std::vector<uint8_t>& bytes) {
  auto b = core::Buffer::allocate(bytes.size());
  if (!bytes.empty()) std::memcpy(b->data(), bytes.data(), bytes.size());
  return b;
}

// Parses `bytes` as GGUF and returns the error message ("" if it parsed).
std::string gguf_error(const std::vector<uint8_t>& bytes) {
  try {
    io::GgufFile::parse(to_buffer(bytes), "bad.gguf");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

// Little-endian GGUF byte builder for hostile headers.
struct Bytes {
  std::vector<uint8_t> b;
  template <class T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return put<uint32_t>(0x46554747).put<uint32_t>(version).put<uint64_t>(n_tensors).put<uint64_t>(n_kv);
  }
  // One tensor info: name, dims (ggml order), type, offset.
  Bytes& tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>((uint32_t)ne.size());
    for (auto n : ne) put<uint64_t>(n);
    return put<uint32_t>(type).put<uint64_t>(offset);
  }
  Bytes& pad(size_t align = 32) {
    while (b.size() % align) b.push_back(0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

TEST(BadGguf, EveryTruncationIsAnError) {
  const auto bytes = read_all(test::fixture_path("gguf/all_types.gguf"));
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string err = gguf_error({bytes.begin(), bytes.begin() + n});
    ASSERT_FALSE(err.empty()) << "prefix of " << n << " bytes parsed";
    ASSERT_NE(err.find("bad.gguf"), std::string::npos) << err;
  }
  EXPECT_EQ(gguf_error(bytes), "");
}

TEST(BadGguf, BitFlipsNeverCrash) {
  const auto bytes = read_all(test::fixture_path("gguf/all_types.gguf"));
  core::Rng rng(11);
  int errors = 0;
  for (int i = 0; i < 3000; ++i) {
    auto b = bytes;
    const int flips = 1 + (int)rng.below(3);
    for (int k = 0; k < flips; ++k) b[rng.below(b.size())] ^= (uint8_t)(1u << rng.below(8));
    // Either a clean parse (flip in tensor data or a harmless field) or a clean error; never a crash.
    if (!gguf_error(b).empty()) ++errors;
  }
  EXPECT_GT(errors, 100);
}

struct HostileCase {
  const char* what;
  std::vector<uint8_t> bytes;
  const char* expect;  // substring of the message
};

TEST(BadGguf, HostileHeadersNameTheProblem) {
  std::vector<HostileCase> cases = {
      {"wrong magic", Bytes().put<uint32_t>(0x12345678).put<uint32_t>(3).zeros(16).b, "not a GGUF file"},
      {"version 1", Bytes().header(0, 0, 1).b, "version 1"},
      {"tensor count 2^60", Bytes().header(1ull << 60, 0).b, "tensor count"},
      {"kv count 2^60", Bytes().header(0, 1ull << 60).b, "metadata count"},
      {"string length 2^62", Bytes().header(0, 1).str("k").put<uint32_t>(8).put<uint64_t>(1ull << 62).b, "string value"},
      {"array of 2^61 u32", Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(1ull << 61).b,
       "runs past the end"},
      {"array of 2^60 strings", Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(1ull << 60).b,
       "cannot fit"},
      {"unknown value type", Bytes().header(0, 1).str("k").put<uint32_t>(99).b, "unknown value type"},
      {"bool 7", Bytes().header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(7).b, "neither 0 nor 1"},
      {"5 dims", Bytes().header(1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0).pad().zeros(32).b, "dimensions"},
      {"huge dims", Bytes().header(1, 0).tensor("t", {1ull << 40, 1ull << 40}, 0, 0).pad().zeros(32).b, "absurd"},
      {"unknown tensor type", Bytes().header(1, 0).tensor("t", {32}, 77, 0).pad().zeros(128).b, "not supported"},
      {"Q8_K (no storage type)", Bytes().header(1, 0).tensor("t", {256}, 15, 0).pad().zeros(512).b, "Q8_K"},
      {"K-quant row of 100", Bytes().header(1, 0).tensor("t", {100}, 12, 0).pad().zeros(256).b, "block size 256"},
      {"offset past end", Bytes().header(1, 0).tensor("t", {8}, 0, 1ull << 40).pad().zeros(32).b, "past the end"},
      {"data past end", Bytes().header(1, 0).tensor("t", {1024}, 0, 0).pad().zeros(32).b, "past the end"},
      {"misaligned offset", Bytes().header(1, 0).tensor("t", {4}, 0, 3).pad().zeros(64).b, "not aligned"},
      {"row not multiple of block", Bytes().header(1, 0).tensor("t", {33}, 8, 0).pad().zeros(64).b, "block size"},
      {"duplicate tensor", Bytes().header(2, 0).tensor("t", {8}, 0, 0).tensor("t", {8}, 0, 32).pad().zeros(64).b,
       "duplicate tensor"},
      {"duplicate key", Bytes().header(0, 2).str("k").put<uint32_t>(4).put<uint32_t>(1).str("k").put<uint32_t>(4).put<uint32_t>(2).b,
       "duplicate metadata key"},
  };
  for (const auto& c : cases) {
    const std::string err = gguf_error(c.bytes);
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.what << ": got \"" << err << "\"";
    EXPECT_NE(err.find("bad.gguf"), std::string::npos) << c.what << ": message does not name the file: " << err;
  }
}

TEST(BadGguf, MissingFileAndDirectory) {
  EXPECT_THROW(io::GgufFile::open("/nonexistent/model.gguf"), Error);
  EXPECT_THROW(io::GgufFile::open("/tmp"), Error);
}

std::string safetensors_error(const std::vector<uint8_t>& bytes) {
  try {
    io::SafetensorsFile::parse(to_buffer(bytes), "bad.safetensors");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

std::vector<uint8_t> st_bytes(const std::string& header, size_t data) {
  Bytes b;
  b.put<uint64_t>(header.size());
  b.b.insert(b.b.end(), header.begin(), header.end());
  return b.zeros(data).b;
}

TEST(BadSafetensors, EachProblemIsNamed) {
  const std::vector<std::pair<std::vector<uint8_t>, const char*>> cases = {
      {{1, 2, 3}, "not a safetensors file"},
      {Bytes().put<uint64_t>(1ull << 50).b, "header length"},
      {st_bytes("{not json", 0), "not valid JSON"},
      {st_bytes("[1,2]", 0), "not a JSON object"},
      {st_bytes(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "outside"},
      {st_bytes(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12 bytes"},
      {st_bytes(R"({"w":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8), "unsupported dtype"},
      {st_bytes(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "bad dimension"},
      {st_bytes(R"({"w":{"dtype":"F32","shape":[2]}})", 8), "data_offsets"},
      {st_bytes(R"({"w":{"dtype":"F32","shape":[1099511627776, 1099511627776],"data_offsets":[0,8]}})", 8), "absurdly large"},
  };
  for (const auto& [bytes, expect] : cases) {
    const std::string err = safetensors_error(bytes);
    EXPECT_NE(err.find(expect), std::string::npos) << "expected \"" << expect << "\", got \"" << err << "\"";
    EXPECT_NE(err.find("bad.safetensors"), std::string::npos) << err;
  }
  const auto good = read_all(test::fixture_path("gguf/all_types.safetensors"));
  for (size_t n = 0; n < good.size(); n += 7) EXPECT_FALSE(safetensors_error({good.begin(), good.begin() + n}).empty());
}

// A tiny llama GGUF with one tensor removed, renamed, reshaped or retyped must fail to load with a message naming
// the tensor.
const std::string& tiny_llama_gguf() {
  static const std::string path = [] {
    const auto ckpt = io::HfCheckpoint::open(test::fixture_path("llama_hf/tiny_tied"));
    io::GgufWriter w;
    models::convert_hf(ckpt, {}, w);
    const std::string p = test::temp_path("llamba_tiny_llama.gguf").string();
    w.write(p);
    return p;
  }();
  return path;
}

std::string model_error(const std::function<void(io::GgufWriter&, const io::GgufFile&)>& edit) {
  const auto src = io::GgufFile::open(tiny_llama_gguf());
  io::GgufWriter w;
  for (const auto& [k, v] : src.metadata()) w.set(k, v);
  edit(w, src);
  const std::string path = test::temp_path("llamba_bad_model.gguf").string();
  w.write(path);
  try {
    const auto f = io::GgufFile::open(path);
    models::load_model(f);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

void copy_tensors(io::GgufWriter& w, const io::GgufFile& src, const std::string& skip = "") {
  for (const auto& t : src.tensors())
    if (t.name != skip) w.add_tensor(t.name, src.tensor(t));
}

TEST(BadModel, MissingMisShapedAndUnknown) {
  EXPECT_EQ(model_error([](io::GgufWriter& w, const io::GgufFile& s) { copy_tensors(w, s); }), "");
  std::string e = model_error([](io::GgufWriter& w, const io::GgufFile& s) { copy_tensors(w, s, "blk.1.attn_q.weight"); });
  EXPECT_NE(e.find("missing tensor blk.1.attn_q.weight"), std::string::npos) << e;
  e = model_error([](io::GgufWriter& w, const io::GgufFile& s) {
    copy_tensors(w, s, "blk.0.ffn_norm.weight");
    w.add_tensor("blk.0.ffn_norm.weight", core::Tensor::zeros(core::DType::kF32, {7}));
  });
  EXPECT_NE(e.find("blk.0.ffn_norm.weight has shape (7,)"), std::string::npos) << e;
  e = model_error([](io::GgufWriter& w, const io::GgufFile& s) {
    copy_tensors(w, s, "blk.0.attn_norm.weight");
    const auto v = s.tensor("blk.0.attn_norm.weight");
    w.add_tensor("blk.0.attn_norm.weight", core::Tensor::zeros(core::DType::kF16, v.shape));
  });
  EXPECT_NE(e.find("blk.0.attn_norm.weight must be f32"), std::string::npos) << e;
  e = model_error([](io::GgufWriter& w, const io::GgufFile& s) {
    copy_tensors(w, s);
    w.set("general.architecture", io::GgufValue::string("rwkv9"));
  });
  EXPECT_NE(e.find("unknown or unsupported architecture \"rwkv9\""), std::string::npos) << e;
  e = model_error([](io::GgufWriter& w, const io::GgufFile& s) {
    copy_tensors(w, s);
    w.remove("llama.block_count");
  });
  EXPECT_NE(e.find("missing metadata key llama.block_count"), std::string::npos) << e;
  e = model_error([](io::GgufWriter& w, const io::GgufFile& s) {
    copy_tensors(w, s);
    w.set("llama.attention.head_count_kv", io::GgufValue::u32(3));
  });
  EXPECT_NE(e.find("not a multiple of head_count_kv"), std::string::npos) << e;
}

}  // namespace
}  // namespace llamba
